// row_codec_bench.cc: our row format (storage/row_codec.h) against two alternatives, on the
// benchmark workload's row and on a 10-column mixed row. One row per iteration, so the reported
// time is ns/row; the `bytes_per_row` counter is the mean encoded size.
//
//   ours    version · seq · flags · count · null bitmap · values (no names, no tags)
//   tagged  seq · deleted · count · per cell: name (varint len + bytes) · type tag · value, cells
//           in column-name order: a self-describing row in the spirit of KalamDB's FlatBuffers
//           RowPayload (every row carries its column names and a tag per value). It is a lower
//           bound for that design: no vtables, offsets or envelope.
//   json    {"_seq":..,"_deleted":..,"<name>":<value>,...} written with common/json_writer.h,
//           read with simdjson's DOM parser.
//
// Every codec decodes into the same RowView (a Value per schema column, strings borrowed), and
// each codec's output is checked against the input rows before timing. All three build Values
// in place (`::new (slot) Value(...)`, see DecodeRow in src/storage/row_codec.cc for why).
//
// Run: ./build/release/bench/row_codec_bench
#include <benchmark/benchmark.h>
#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "common/json_writer.h"
#include "storage/key_codec.h"
#include "storage/row_codec.h"

namespace kalamdb::storage {
namespace {

constexpr size_t kRows = 1024;  // rows per workload, cycled through

struct Workload {
  std::vector<ColumnType> schema;
  std::vector<std::string> names;
  std::vector<std::vector<Value>> rows;
  std::vector<std::string> arena;  // owns the bytes the rows' text values borrow
};

std::string RandomText(std::mt19937_64& rng, size_t min_len, size_t max_len) {
  static constexpr char kChars[] =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -_";
  std::string s(min_len + rng() % (max_len - min_len + 1), ' ');
  for (char& c : s) c = kChars[rng() % (sizeof(kChars) - 1)];
  return s;
}

// The single-row INSERT benchmark's table: (id BIGINT, value TEXT ~60 bytes, created_at
// TIMESTAMP).
const Workload& SingleWorkload() {
  static const Workload w = [] {
    Workload w;
    w.schema = {{DataType::kBigInt}, {DataType::kText}, {DataType::kTimestamp}};
    w.names = {"id", "value", "created_at"};
    std::mt19937_64 rng(1);
    w.arena.reserve(kRows);
    for (size_t i = 0; i < kRows; ++i) {
      w.arena.push_back(RandomText(rng, 56, 64));
      w.rows.push_back(
          {Value::Int(DataType::kBigInt, static_cast<int64_t>(i) * 7919),
           Value::Bytes(DataType::kText, w.arena.back()),
           Value::Int(DataType::kTimestamp, 1746000000000000 + static_cast<int64_t>(i) * 1000)});
    }
    return w;
  }();
  return w;
}

// Ten columns of mixed types, one of them NULL in half the rows.
const Workload& MixedWorkload() {
  static const Workload w = [] {
    Workload w;
    w.schema = {{DataType::kBigInt},         {DataType::kInt},
                {DataType::kBoolean},        {DataType::kDouble},
                {DataType::kDecimal, 12, 2}, {DataType::kText},
                {DataType::kJson},           {DataType::kTimestamp},
                {DataType::kDate},           {DataType::kUuid}};
    w.names = {"id",   "user_id", "active",     "score", "price",
               "name", "attrs",   "created_at", "day",   "ref"};
    std::mt19937_64 rng(2);
    w.arena.reserve(3 * kRows);
    for (size_t i = 0; i < kRows; ++i) {
      w.arena.push_back(RandomText(rng, 8, 24));
      const std::string_view name = w.arena.back();
      w.arena.push_back("{\"k\":" + std::to_string(rng() % 1000) + ",\"t\":\"" +
                        RandomText(rng, 4, 12) + "\"}");
      const std::string_view attrs = w.arena.back();
      std::string uuid(16, '\0');
      for (char& c : uuid) c = static_cast<char>(rng());
      w.arena.push_back(uuid);
      const std::string_view ref = w.arena.back();
      w.rows.push_back({
          Value::Int(DataType::kBigInt, static_cast<int64_t>(rng() >> 1)),
          Value::Int(DataType::kInt, static_cast<int32_t>(rng() % 100000)),
          Value::Bool(rng() % 2),
          Value::Double(DataType::kDouble, static_cast<double>(rng() % 100000) / 7.0),
          Value::Decimal(static_cast<int64_t>(rng() % 10000000)),
          Value::Bytes(DataType::kText, name),
          i % 2 ? Value::Bytes(DataType::kJson, attrs) : Value::Null(DataType::kJson),
          Value::Int(DataType::kTimestamp, 1746000000000000 + static_cast<int64_t>(i)),
          Value::Int(DataType::kDate, 20000 + static_cast<int64_t>(i % 365)),
          Value::Bytes(DataType::kUuid, ref),
      });
    }
    return w;
  }();
  return w;
}

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "row_codec_bench: %s\n", what);
  std::abort();
}

// --- ours -------------------------------------------------------------------------------------

class OursCodec {
 public:
  explicit OursCodec(const Workload& w) : w_(w) {}
  void Encode(std::span<const Value> row, int64_t seq, std::string* out) {
    if (!EncodeRow(w_.schema, row, seq, false, out).ok()) Die("ours: encode");
  }
  bool Decode(std::string_view bytes, RowView* out) {
    return DecodeRow(bytes, w_.schema, out).ok();
  }

 private:
  const Workload& w_;
};

// --- tagged: names and a type tag in every cell -----------------------------------------------

template <typename T>
void PutLE(std::string* out, T v) {
  char buf[sizeof(T)];
  std::memcpy(buf, &v, sizeof(T));
  out->append(buf, sizeof(T));
}

template <typename T>
bool GetLE(std::string_view* in, T* v) {
  if (in->size() < sizeof(T)) return false;
  std::memcpy(v, in->data(), sizeof(T));
  in->remove_prefix(sizeof(T));
  return true;
}

class TaggedCodec {
 public:
  explicit TaggedCodec(const Workload& w) : w_(w) {
    for (size_t i = 0; i < w.names.size(); ++i) order_.push_back(i);
    std::sort(order_.begin(), order_.end(),
              [&](size_t a, size_t b) { return w.names[a] < w.names[b]; });
  }

  void Encode(std::span<const Value> row, int64_t seq, std::string* out) {
    PutLE(out, seq);
    out->push_back(0);  // deleted
    AppendVarint64(out, row.size());
    for (size_t col : order_) {
      const Value& v = row[col];
      AppendVarint64(out, w_.names[col].size());
      out->append(w_.names[col]);
      if (v.is_null()) {
        out->push_back(0);
        continue;
      }
      out->push_back(static_cast<char>(v.type()));
      switch (v.type()) {
        case DataType::kBoolean:
          out->push_back(v.as_bool() ? 1 : 0);
          break;
        case DataType::kSmallInt:
          PutLE(out, static_cast<int16_t>(v.as_int()));
          break;
        case DataType::kInt:
          PutLE(out, static_cast<int32_t>(v.as_int()));
          break;
        case DataType::kFloat:
          PutLE(out, static_cast<float>(v.as_double()));
          break;
        case DataType::kDouble:
          PutLE(out, v.as_double());
          break;
        case DataType::kDecimal:
          PutLE(out, v.as_decimal());
          break;
        case DataType::kText:
        case DataType::kBytes:
        case DataType::kJson:
          AppendVarint64(out, v.as_bytes().size());
          out->append(v.as_bytes());
          break;
        case DataType::kUuid:
          out->append(v.as_bytes());
          break;
        default:
          PutLE(out, v.as_int());
          break;
      }
    }
  }

  bool Decode(std::string_view in, RowView* out) {
    const size_t n = w_.schema.size();
    if (out->values.size() != n) out->values.resize(n);
    for (size_t i = 0; i < n; ++i) ::new (&out->values[i]) Value(Value::Null(w_.schema[i].type));
    uint8_t deleted = 0;
    uint64_t cells = 0;
    if (!GetLE(&in, &out->seq) || !GetLE(&in, &deleted) || !GetVarint64(&in, &cells)) return false;
    out->deleted = deleted != 0;
    for (uint64_t c = 0; c < cells; ++c) {
      uint64_t len = 0;
      if (!GetVarint64(&in, &len) || len > in.size()) return false;
      const std::string_view name = in.substr(0, len);
      in.remove_prefix(len);
      size_t col = 0;  // a reader maps each stored name to a schema column
      while (col < n && w_.names[col] != name) ++col;
      uint8_t tag = 0;
      if (!GetLE(&in, &tag)) return false;
      if (tag == 0) continue;
      const auto type = static_cast<DataType>(tag);
      Value* slot = col < n ? &out->values[col] : &skipped_;  // a dropped column's cell
      switch (type) {
        case DataType::kBoolean: {
          uint8_t b = 0;
          if (!GetLE(&in, &b)) return false;
          ::new (slot) Value(Value::Bool(b != 0));
          break;
        }
        case DataType::kSmallInt: {
          int16_t x = 0;
          if (!GetLE(&in, &x)) return false;
          ::new (slot) Value(Value::Int(type, x));
          break;
        }
        case DataType::kInt: {
          int32_t x = 0;
          if (!GetLE(&in, &x)) return false;
          ::new (slot) Value(Value::Int(type, x));
          break;
        }
        case DataType::kFloat: {
          float x = 0;
          if (!GetLE(&in, &x)) return false;
          ::new (slot) Value(Value::Double(type, x));
          break;
        }
        case DataType::kDouble: {
          double x = 0;
          if (!GetLE(&in, &x)) return false;
          ::new (slot) Value(Value::Double(type, x));
          break;
        }
        case DataType::kDecimal: {
          int128_t x = 0;
          if (!GetLE(&in, &x)) return false;
          ::new (slot) Value(Value::Decimal(x));
          break;
        }
        case DataType::kText:
        case DataType::kBytes:
        case DataType::kJson: {
          uint64_t size = 0;
          if (!GetVarint64(&in, &size) || size > in.size()) return false;
          ::new (slot) Value(Value::Bytes(type, in.substr(0, size)));
          in.remove_prefix(size);
          break;
        }
        case DataType::kUuid:
          if (in.size() < 16) return false;
          ::new (slot) Value(Value::Bytes(type, in.substr(0, 16)));
          in.remove_prefix(16);
          break;
        default: {
          int64_t x = 0;
          if (!GetLE(&in, &x)) return false;
          ::new (slot) Value(Value::Int(type, x));
          break;
        }
      }
    }
    return in.empty();
  }

 private:
  const Workload& w_;
  std::vector<size_t> order_;
  Value skipped_;
};

// --- json: common/json_writer.h out, simdjson On-Demand in ------------------------------------

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

class JsonCodec {
 public:
  explicit JsonCodec(const Workload& w) : w_(w), uuid_scratch_(16 * w.schema.size(), '\0') {}

  void Encode(std::span<const Value> row, int64_t seq, std::string* out) {
    JsonWriter json(*out);
    json.BeginObject().Key("_seq").Int(seq).Key("_deleted").Bool(false);
    for (size_t col = 0; col < row.size(); ++col) {
      const Value& v = row[col];
      json.Key(w_.names[col]);
      if (v.is_null()) {
        json.Null();
        continue;
      }
      switch (v.type()) {
        case DataType::kBoolean:
          json.Bool(v.as_bool());
          break;
        case DataType::kFloat:
        case DataType::kDouble: {
          char buf[32];  // shortest text that reads back to the same double
          const auto end = std::to_chars(buf, buf + sizeof(buf), v.as_double()).ptr;
          json.Raw(std::string_view(buf, end - buf));
          break;
        }
        case DataType::kDecimal:  // the bench's decimals fit in int64
          json.Int(static_cast<int64_t>(v.as_decimal()));
          break;
        case DataType::kUuid: {
          static constexpr char kHex[] = "0123456789abcdef";
          char hex[32];
          for (size_t i = 0; i < 16; ++i) {
            const auto b = static_cast<uint8_t>(v.as_bytes()[i]);
            hex[2 * i] = kHex[b >> 4];
            hex[2 * i + 1] = kHex[b & 15];
          }
          json.String(std::string_view(hex, 32));
          break;
        }
        case DataType::kText:
        case DataType::kBytes:
        case DataType::kJson:
          json.String(v.as_bytes());
          break;
        default:
          json.Int(v.as_int());
          break;
      }
    }
    json.EndObject();
  }

  // REQUIRES: SIMDJSON_PADDING readable bytes after `bytes` (the bench's buffers reserve them).
  // Strings borrow the parser's buffer: valid until the next Decode. Uses the DOM API (as
  // src/catalog/users.cc does), which picks the CPU's SIMD kernel at run time; On-Demand would
  // be compiled for the baseline x86-64 target here and fall back to its scalar kernel.
  bool Decode(std::string_view bytes, RowView* out) {
    const size_t n = w_.schema.size();
    if (out->values.size() != n) out->values.resize(n);
    for (size_t i = 0; i < n; ++i) ::new (&out->values[i]) Value(Value::Null(w_.schema[i].type));
    simdjson::dom::element doc;
    if (parser_.parse(bytes.data(), bytes.size(), /*realloc_if_needed=*/false).get(doc)) {
      return false;
    }
    simdjson::dom::object object;
    if (doc.get_object().get(object)) return false;
    for (const auto field : object) {
      const std::string_view key = field.key;
      const simdjson::dom::element value = field.value;
      if (key == "_seq") {
        if (value.get_int64().get(out->seq)) return false;
        continue;
      }
      if (key == "_deleted") {
        if (value.get_bool().get(out->deleted)) return false;
        continue;
      }
      size_t col = 0;
      while (col < n && w_.names[col] != key) ++col;
      if (col == n) continue;
      if (value.is_null()) continue;
      const DataType type = w_.schema[col].type;
      switch (type) {
        case DataType::kBoolean: {
          bool b = false;
          if (value.get_bool().get(b)) return false;
          ::new (&out->values[col]) Value(Value::Bool(b));
          break;
        }
        case DataType::kFloat:
        case DataType::kDouble: {
          double d = 0;
          if (value.get_double().get(d)) return false;
          ::new (&out->values[col]) Value(Value::Double(type, d));
          break;
        }
        case DataType::kDecimal: {
          int64_t d = 0;
          if (value.get_int64().get(d)) return false;
          ::new (&out->values[col]) Value(Value::Decimal(d));
          break;
        }
        case DataType::kUuid: {
          std::string_view hex;
          if (value.get_string().get(hex) || hex.size() != 32) return false;
          char* dst = uuid_scratch_.data() + 16 * col;
          for (size_t i = 0; i < 16; ++i) {
            const int hi = HexDigit(hex[2 * i]), lo = HexDigit(hex[2 * i + 1]);
            if (hi < 0 || lo < 0) return false;
            dst[i] = static_cast<char>(hi << 4 | lo);
          }
          ::new (&out->values[col]) Value(Value::Bytes(type, std::string_view(dst, 16)));
          break;
        }
        case DataType::kText:
        case DataType::kBytes:
        case DataType::kJson: {
          std::string_view s;
          if (value.get_string().get(s)) return false;
          ::new (&out->values[col]) Value(Value::Bytes(type, s));
          break;
        }
        default: {
          int64_t i = 0;
          if (value.get_int64().get(i)) return false;
          ::new (&out->values[col]) Value(Value::Int(type, i));
          break;
        }
      }
    }
    return true;
  }

 private:
  const Workload& w_;
  simdjson::dom::parser parser_;
  std::string uuid_scratch_;  // decoded UUID bytes, 16 per column
};

// --- harness ----------------------------------------------------------------------------------

bool SameValue(const Value& a, const Value& b) {
  if (a.type() != b.type() || a.is_null() != b.is_null()) return false;
  if (a.is_null()) return true;
  switch (PhysicalOf(a.type())) {
    case Physical::kBool:
      return a.as_bool() == b.as_bool();
    case Physical::kInt64:
      return a.as_int() == b.as_int();
    case Physical::kDouble:
      return a.as_double() == b.as_double();
    case Physical::kInt128:
      return a.as_decimal() == b.as_decimal();
    case Physical::kBytes:
      return a.as_bytes() == b.as_bytes();
  }
  return false;
}

// Every row encoded once, each in a buffer with SIMDJSON_PADDING spare bytes after it.
template <typename Codec>
std::vector<std::string> EncodeAll(const Workload& w, Codec& codec) {
  std::vector<std::string> encoded(w.rows.size());
  std::string tmp;
  for (size_t i = 0; i < w.rows.size(); ++i) {
    tmp.clear();
    codec.Encode(w.rows[i], static_cast<int64_t>(i) + 1, &tmp);
    encoded[i].reserve(tmp.size() + simdjson::SIMDJSON_PADDING);
    encoded[i] = tmp;
  }
  return encoded;
}

// Checks that `codec` decodes what it encoded before any timing.
template <typename Codec>
void Verify(const Workload& w, Codec& codec, const std::vector<std::string>& encoded) {
  RowView row;
  for (size_t i = 0; i < w.rows.size(); ++i) {
    if (!codec.Decode(encoded[i], &row)) Die("decode failed");
    if (row.seq != static_cast<int64_t>(i) + 1 || row.deleted) Die("header mismatch");
    for (size_t c = 0; c < w.schema.size(); ++c) {
      if (!SameValue(row.values[c], w.rows[i][c])) Die("value mismatch");
    }
  }
}

double MeanSize(const std::vector<std::string>& encoded) {
  size_t total = 0;
  for (const std::string& s : encoded) total += s.size();
  return static_cast<double>(total) / static_cast<double>(encoded.size());
}

template <typename Codec>
void BM_Encode(benchmark::State& state, const Workload& (*workload)()) {
  const Workload& w = workload();
  Codec codec(w);
  std::string out;
  out.reserve(4096);
  size_t i = 0;
  for (auto _ : state) {
    out.clear();
    codec.Encode(w.rows[i], static_cast<int64_t>(i), &out);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
    if (++i == w.rows.size()) i = 0;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.counters["bytes_per_row"] = MeanSize(EncodeAll(w, codec));
}

template <typename Codec>
void BM_Decode(benchmark::State& state, const Workload& (*workload)()) {
  const Workload& w = workload();
  Codec codec(w);
  const std::vector<std::string> encoded = EncodeAll(w, codec);
  Verify(w, codec, encoded);
  RowView row;
  size_t i = 0;
  for (auto _ : state) {
    if (!codec.Decode(encoded[i], &row)) Die("decode failed");
    benchmark::DoNotOptimize(row.values.data());
    benchmark::ClobberMemory();
    if (++i == encoded.size()) i = 0;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.counters["bytes_per_row"] = MeanSize(encoded);
}

// For scale: the key the row is written under (USER table, BIGINT primary key).
void BM_EncodeUserRowKey(benchmark::State& state) {
  const Workload& w = SingleWorkload();
  std::string key;
  key.reserve(64);
  size_t i = 0;
  for (auto _ : state) {
    key.clear();
    if (!AppendRowKey(&key, 42, "user-0001", w.rows[i][0]).ok()) Die("row key");
    benchmark::DoNotOptimize(key.data());
    benchmark::ClobberMemory();
    if (++i == w.rows.size()) i = 0;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.counters["bytes_per_row"] = static_cast<double>(key.size());
}

template <typename Codec>
void RegisterCodec(const char* name) {
  const struct {
    const char* name;
    const Workload& (*fn)();
  } workloads[] = {{"single3", &SingleWorkload}, {"mixed10", &MixedWorkload}};
  for (const auto& wl : workloads) {
    benchmark::RegisterBenchmark((std::string("encode/") + name + "/" + wl.name).c_str(),
                                 BM_Encode<Codec>, wl.fn);
    benchmark::RegisterBenchmark((std::string("decode/") + name + "/" + wl.name).c_str(),
                                 BM_Decode<Codec>, wl.fn);
  }
}

}  // namespace
}  // namespace kalamdb::storage

int main(int argc, char** argv) {
  using namespace kalamdb::storage;
  RegisterCodec<OursCodec>("ours");
  RegisterCodec<TaggedCodec>("tagged");
  RegisterCodec<JsonCodec>("json");
  benchmark::RegisterBenchmark("rowkey/user_bigint", BM_EncodeUserRowKey);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
