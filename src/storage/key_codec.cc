// key_codec.cc: order-preserving key encodings of the `rows` family.
//
// Grammar (· is concatenation; u32be/u64be are fixed-width big-endian):
//
//   shared_row_key := table_id · pk
//   user_row_key   := table_id · owner · pk
//   stream_key     := table_id · owner · seq
//   table_id       := u32be
//   owner          := varint(len) · byte{len}         ; the user id, length-prefixed
//   seq            := u64be                           ; the row's _seq (never negative)
//   varint         := unsigned LEB128, 1..10 bytes    ; low 7-bit group first, bit 7 = more
//   pk             := key_value
//   key_value      := int_key | bool_key | float_key | decimal_key | uuid_key | bytes_key
//   int_key        := u64be(uint64(v) XOR 2^63)       ; SmallInt Int BigInt Timestamp Date
//                                                     ; DateTime Time, all widened to 64 bits
//   bool_key       := 0x00 | 0x01
//   float_key      := u64be(f(bits(double(v))))       ; Float and Double
//       f(b)       := b XOR 2^63   if the sign bit of b is clear
//                     NOT b        if it is set
//       (-0.0 is written as +0.0 and every NaN as 0x7FF8000000000000 first)
//   decimal_key    := u128be(uint128(v) XOR 2^127)    ; the scaled value
//   uuid_key       := byte{16}
//   bytes_key      := (0x00 0xFF | byte - 0x00)* · 0x00 0x01   ; Text Json Bytes
//
// Why bytewise order equals SQL order: flipping the sign bit maps two's complement onto
// unsigned order; f() maps IEEE-754 onto unsigned order (negatives reversed, then positives);
// in bytes_key the terminator 0x00 0x01 sorts below every continuation (0x00 0xFF or any
// non-zero byte), so a string sorts before its extensions ("a" < "a\0" < "ab"). Each part is
// self-delimiting, so concatenations compare part by part.
#include "storage/key_codec.h"

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

namespace kalamdb::storage {
namespace {

constexpr uint64_t kSignBit64 = uint64_t{1} << 63;
__extension__ typedef unsigned __int128 uint128_t;

// Byte order helpers. Whole-word bswap + memcpy: a byte-at-a-time loop into a buffer compiled to
// byte stores followed by one 8-byte load, a store-forwarding stall that made a row key ~40%
// slower (16 vs 11 ns in bench/row_codec_bench.cc, rowkey/user_bigint).
template <typename U>
U ByteSwapToBig(U v) {
  static_assert(sizeof(U) == 4 || sizeof(U) == 8);
  if constexpr (std::endian::native == std::endian::big) {
    return v;
  } else if constexpr (sizeof(U) == 8) {
    return __builtin_bswap64(v);
  } else {
    return __builtin_bswap32(v);
  }
}

template <typename U>
void AppendBE(std::string* out, U v) {
  v = ByteSwapToBig(v);
  char buf[sizeof(U)];
  std::memcpy(buf, &v, sizeof(U));
  out->append(buf, sizeof(U));
}

void AppendU64BE(std::string* out, uint64_t v) { AppendBE(out, v); }

template <typename U>
U LoadBE(const char* p) {
  U v;
  std::memcpy(&v, p, sizeof(U));
  return ByteSwapToBig(v);
}

uint64_t LoadU64BE(const char* p) { return LoadBE<uint64_t>(p); }
uint32_t LoadU32BE(const char* p) { return LoadBE<uint32_t>(p); }

uint64_t EncodeDoubleBits(double d) {
  if (std::isnan(d)) d = std::numeric_limits<double>::quiet_NaN();
  if (d == 0.0) d = 0.0;  // folds -0.0 into +0.0
  uint64_t bits = std::bit_cast<uint64_t>(d);
  return (bits & kSignBit64) ? ~bits : (bits | kSignBit64);
}

double DecodeDoubleBits(uint64_t key) {
  uint64_t bits = (key & kSignBit64) ? (key & ~kSignBit64) : ~key;
  return std::bit_cast<double>(bits);
}

Status Corrupt(std::string_view what) {
  return Status(ErrorCode::kCorruption, "key: " + std::string(what));
}

// Decodes a bytes_key from the front of *in.
Status DecodeEscaped(std::string_view* in, DataType type, Value* out, std::string* scratch) {
  if (in->empty()) return Corrupt("truncated string");
  const char* pos = in->data();
  const char* const end = pos + in->size();
  const char* zero = static_cast<const char*>(std::memchr(pos, 0, end - pos));
  if (zero == nullptr || zero + 1 == end) return Corrupt("unterminated string");
  if (static_cast<uint8_t>(zero[1]) == 0x01) {  // common case: no escape, borrow
    *out = Value::Bytes(type, std::string_view(pos, zero - pos));
    in->remove_prefix(zero + 2 - pos);
    return Status::OK();
  }
  if (scratch == nullptr) {
    return Status(ErrorCode::kInvalidArgument, "an escaped key string needs a scratch buffer");
  }
  scratch->clear();
  for (;;) {
    if (static_cast<uint8_t>(zero[1]) != 0xFF) return Corrupt("bad string escape");
    scratch->append(pos, zero - pos);
    scratch->push_back('\0');
    pos = zero + 2;
    zero = static_cast<const char*>(std::memchr(pos, 0, end - pos));
    if (zero == nullptr || zero + 1 == end) return Corrupt("unterminated string");
    if (static_cast<uint8_t>(zero[1]) == 0x01) break;
  }
  scratch->append(pos, zero - pos);
  *out = Value::Bytes(type, *scratch);
  in->remove_prefix(zero + 2 - in->data());
  return Status::OK();
}

}  // namespace

void AppendVarint64(std::string* out, uint64_t v) {
  char buf[10];
  size_t n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>((v & 0x7F) | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  out->append(buf, n);
}

bool GetVarint64(std::string_view* in, uint64_t* v) {
  uint64_t result = 0;
  const size_t limit = in->size() < 10 ? in->size() : 10;
  for (size_t i = 0; i < limit; ++i) {
    const uint64_t byte = static_cast<uint8_t>((*in)[i]);
    if (i == 9 && byte > 1) return false;  // bits beyond 64
    result |= (byte & 0x7F) << (7 * i);
    if ((byte & 0x80) == 0) {
      *v = result;
      in->remove_prefix(i + 1);
      return true;
    }
  }
  return false;
}

void AppendTableId(std::string* out, uint32_t table_id) { AppendBE(out, table_id); }

void AppendOwner(std::string* out, std::string_view user_id) {
  AppendVarint64(out, user_id.size());
  out->append(user_id);
}

Status AppendKeyValue(std::string* out, const Value& value) {
  if (value.is_null()) {
    return Status(ErrorCode::kInvalidArgument, "a primary key value cannot be NULL");
  }
  switch (value.type()) {
    case DataType::kSmallInt:
    case DataType::kInt:
    case DataType::kBigInt:
    case DataType::kTimestamp:
    case DataType::kDate:
    case DataType::kDateTime:
    case DataType::kTime: {
      const int64_t v = value.as_int();
      if ((value.type() == DataType::kSmallInt && (v < INT16_MIN || v > INT16_MAX)) ||
          (value.type() == DataType::kInt && (v < INT32_MIN || v > INT32_MAX))) {
        return Status(ErrorCode::kInvalidArgument, "primary key value out of range for its type");
      }
      AppendU64BE(out, static_cast<uint64_t>(v) ^ kSignBit64);
      return Status::OK();
    }
    case DataType::kBoolean:
      out->push_back(value.as_bool() ? '\x01' : '\x00');
      return Status::OK();
    case DataType::kFloat:
    case DataType::kDouble:
      AppendU64BE(out, EncodeDoubleBits(value.as_double()));
      return Status::OK();
    case DataType::kDecimal: {
      const uint128_t u = static_cast<uint128_t>(value.as_decimal()) ^ (uint128_t{1} << 127);
      AppendU64BE(out, static_cast<uint64_t>(u >> 64));
      AppendU64BE(out, static_cast<uint64_t>(u));
      return Status::OK();
    }
    case DataType::kUuid: {
      const std::string_view bytes = value.as_bytes();
      if (bytes.size() != 16) {
        return Status(ErrorCode::kInvalidArgument, "a UUID key must be 16 bytes");
      }
      out->append(bytes);
      return Status::OK();
    }
    case DataType::kText:
    case DataType::kJson:
    case DataType::kBytes: {
      std::string_view rest = value.as_bytes();
      for (;;) {
        const size_t zero = rest.find('\0');
        if (zero == std::string_view::npos) break;
        out->append(rest.data(), zero);
        out->append("\x00\xFF", 2);
        rest.remove_prefix(zero + 1);
      }
      out->append(rest);
      out->append("\x00\x01", 2);
      return Status::OK();
    }
  }
  return Status(ErrorCode::kInvalidArgument, "unsupported primary key type");
}

Status DecodeKeyValue(std::string_view* in, DataType type, Value* out, std::string* scratch) {
  switch (type) {
    case DataType::kSmallInt:
    case DataType::kInt:
    case DataType::kBigInt:
    case DataType::kTimestamp:
    case DataType::kDate:
    case DataType::kDateTime:
    case DataType::kTime: {
      if (in->size() < 8) return Corrupt("truncated integer");
      const int64_t v = static_cast<int64_t>(LoadU64BE(in->data()) ^ kSignBit64);
      if (type == DataType::kSmallInt && (v < INT16_MIN || v > INT16_MAX)) {
        return Corrupt("SmallInt out of range");
      }
      if (type == DataType::kInt && (v < INT32_MIN || v > INT32_MAX)) {
        return Corrupt("Int out of range");
      }
      *out = Value::Int(type, v);
      in->remove_prefix(8);
      return Status::OK();
    }
    case DataType::kBoolean: {
      if (in->empty()) return Corrupt("truncated boolean");
      const uint8_t b = static_cast<uint8_t>(in->front());
      if (b > 1) return Corrupt("bad boolean");
      *out = Value::Bool(b == 1);
      in->remove_prefix(1);
      return Status::OK();
    }
    case DataType::kFloat:
    case DataType::kDouble:
      if (in->size() < 8) return Corrupt("truncated float");
      *out = Value::Double(type, DecodeDoubleBits(LoadU64BE(in->data())));
      in->remove_prefix(8);
      return Status::OK();
    case DataType::kDecimal: {
      if (in->size() < 16) return Corrupt("truncated decimal");
      const uint128_t u =
          (static_cast<uint128_t>(LoadU64BE(in->data())) << 64) | LoadU64BE(in->data() + 8);
      *out = Value::Decimal(static_cast<int128_t>(u ^ (uint128_t{1} << 127)));
      in->remove_prefix(16);
      return Status::OK();
    }
    case DataType::kUuid:
      if (in->size() < 16) return Corrupt("truncated UUID");
      *out = Value::Bytes(type, in->substr(0, 16));
      in->remove_prefix(16);
      return Status::OK();
    case DataType::kText:
    case DataType::kJson:
    case DataType::kBytes:
      return DecodeEscaped(in, type, out, scratch);
  }
  return Corrupt("unknown key type");
}

std::string TablePrefix(uint32_t table_id) {
  std::string out;
  AppendTableId(&out, table_id);
  return out;
}

std::string OwnerPrefix(uint32_t table_id, std::string_view user_id) {
  std::string out;
  out.reserve(RowKeyPrefixSize(user_id));
  AppendTableId(&out, table_id);
  AppendOwner(&out, user_id);
  return out;
}

std::string PrefixSuccessor(std::string_view prefix) {
  std::string out(prefix);
  while (!out.empty()) {
    if (static_cast<uint8_t>(out.back()) != 0xFF) {
      out.back() = static_cast<char>(static_cast<uint8_t>(out.back()) + 1);
      return out;
    }
    out.pop_back();
  }
  return out;
}

Status AppendRowKey(std::string* out, uint32_t table_id, std::string_view owner, const Value& pk) {
  const size_t old_size = out->size();
  AppendTableId(out, table_id);
  if (!owner.empty()) AppendOwner(out, owner);
  Status st = AppendKeyValue(out, pk);
  if (!st.ok()) out->resize(old_size);
  return st;
}

Result<std::string> RowKey(uint32_t table_id, std::string_view owner, const Value& pk) {
  std::string out;
  KALAMDB_RETURN_IF_ERROR(AppendRowKey(&out, table_id, owner, pk));
  return out;
}

Status DecodeRowKey(std::string_view key, bool has_owner, DataType pk_type, RowKeyParts* out,
                    std::string* scratch) {
  if (key.size() < 4) return Corrupt("truncated table id");
  out->table_id = LoadU32BE(key.data());
  key.remove_prefix(4);
  out->owner = {};
  if (has_owner) {
    uint64_t len = 0;
    if (!GetVarint64(&key, &len) || len > key.size()) return Corrupt("bad owner");
    out->owner = key.substr(0, len);
    key.remove_prefix(len);
  }
  KALAMDB_RETURN_IF_ERROR(DecodeKeyValue(&key, pk_type, &out->pk, scratch));
  if (!key.empty()) return Corrupt("trailing bytes after the primary key");
  return Status::OK();
}

void AppendStreamKey(std::string* out, uint32_t table_id, std::string_view owner, uint64_t seq) {
  AppendTableId(out, table_id);
  AppendOwner(out, owner);
  AppendU64BE(out, seq);
}

std::string StreamKey(uint32_t table_id, std::string_view owner, uint64_t seq) {
  std::string out;
  out.reserve(4 + VarintLength(owner.size()) + owner.size() + 8);
  AppendStreamKey(&out, table_id, owner, seq);
  return out;
}

Status DecodeStreamKey(std::string_view key, StreamKeyParts* out) {
  if (key.size() < 4) return Corrupt("truncated table id");
  out->table_id = LoadU32BE(key.data());
  key.remove_prefix(4);
  uint64_t len = 0;
  if (!GetVarint64(&key, &len) || len > key.size()) return Corrupt("bad owner");
  out->owner = key.substr(0, len);
  key.remove_prefix(len);
  if (key.size() != 8) return Corrupt("bad stream sequence");
  out->seq = LoadU64BE(key.data());
  return Status::OK();
}

}  // namespace kalamdb::storage
