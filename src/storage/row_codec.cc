// row_codec.cc: the on-disk row value.
//
// Grammar (· is concatenation; little-endian fixed-width integers):
//
//   row          := version · seq · flags · column_count · null_bitmap · value*
//   version      := 0x01
//   seq          := i64le                           ; the row's _seq
//   flags        := u8                              ; bit 0 = deleted; bits 1..7 are zero
//   column_count := varint                          ; n, the columns the row was written with
//   null_bitmap  := byte{ceil(n / 8)}               ; bit (i % 8) of byte (i / 8) set = column i
//                                                   ; is NULL; padding bits are zero
//   value        := one per non-NULL column i < n, in schema order, by the column's type:
//       Boolean                                 u8 (0x00 | 0x01)
//       SmallInt                                i16le
//       Int                                     i32le
//       BigInt Timestamp Date DateTime Time     i64le
//       Float                                   f32le (IEEE-754 single)
//       Double                                  f64le (IEEE-754 double)
//       Decimal                                 i128le (the value scaled by the column's scale)
//       Uuid                                    byte{16}
//       Text Json Bytes                         varint(len) · byte{len}
//   varint       := unsigned LEB128, 1..10 bytes    ; low 7-bit group first, bit 7 = more
//
// Nothing follows the last value. Column names and types are never stored: the schema the
// reader passes gives them, and columns i >= n (added after the row was written) read as NULL.
// Header size: 10 bytes + varint(n) + ceil(n / 8); a 3-column row has a 12-byte header.
#include "storage/row_codec.h"

#include <bit>
#include <cstring>
#include <new>

#include "storage/key_codec.h"

namespace kalamdb::storage {
namespace {

__extension__ typedef unsigned __int128 uint128_t;

constexpr size_t kHeaderFixed = 10;  // version, seq, flags
constexpr uint8_t kDeletedFlag = 0x01;

// Width of a fixed-width value, or 0 for a length-prefixed one, indexed by DataType.
constexpr uint8_t kFixedWidth[] = {
    0,   // (unused)
    1,   // kBoolean
    2,   // kSmallInt
    4,   // kInt
    8,   // kBigInt
    4,   // kFloat
    8,   // kDouble
    16,  // kDecimal
    0,   // kText
    0,   // kBytes
    0,   // kJson
    8,   // kTimestamp
    8,   // kDate
    8,   // kDateTime
    8,   // kTime
    16,  // kUuid
};
constexpr size_t kTypeCount = sizeof(kFixedWidth);

bool KnownType(DataType type) {
  const auto t = static_cast<uint8_t>(type);
  return t >= 1 && t < kTypeCount;
}

template <typename U>
void StoreLE(char* p, U v) {
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(p, &v, sizeof(v));
  } else {
    for (size_t i = 0; i < sizeof(v); ++i) p[i] = static_cast<char>(v >> (8 * i));
  }
}

template <typename U>
U LoadLE(const char* p) {
  U v;
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(&v, p, sizeof(v));
  } else {
    v = 0;
    for (size_t i = 0; i < sizeof(v); ++i)
      v |= static_cast<U>(static_cast<uint8_t>(p[i])) << (8 * i);
  }
  return v;
}

char* PutVarint(char* p, uint64_t v) {
  while (v >= 0x80) {
    *p++ = static_cast<char>((v & 0x7F) | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<char>(v);
  return p;
}

// One-byte lengths are the common case; longer ones take the general decoder.
inline bool GetLength(std::string_view* in, uint64_t* v) {
  if (!in->empty() && static_cast<uint8_t>(in->front()) < 0x80) {
    *v = static_cast<uint8_t>(in->front());
    in->remove_prefix(1);
    return true;
  }
  return GetVarint64(in, v);
}

Status Invalid(size_t column, std::string_view what) {
  return Status(ErrorCode::kInvalidArgument,
                "row column " + std::to_string(column) + ": " + std::string(what));
}

Status Corrupt(std::string_view what) {
  return Status(ErrorCode::kCorruption, "row: " + std::string(what));
}

Status CheckHeader(std::string_view bytes) {
  if (bytes.size() < kHeaderFixed) return Corrupt("shorter than its header");
  if (static_cast<uint8_t>(bytes[0]) != kRowFormatVersion) return Corrupt("unknown version");
  if ((static_cast<uint8_t>(bytes[9]) & ~kDeletedFlag) != 0) return Corrupt("reserved flags set");
  return Status::OK();
}

}  // namespace

Status EncodeRow(std::span<const ColumnType> schema, std::span<const Value> values, int64_t seq,
                 bool deleted, std::string* out) {
  const size_t n = schema.size();
  if (values.size() != n) {
    return Status(ErrorCode::kInvalidArgument, "row has " + std::to_string(values.size()) +
                                                   " values for " + std::to_string(n) + " columns");
  }
  // Pass 1: validate and size, so that pass 2 writes into one resize of `out`.
  const size_t bitmap_size = (n + 7) / 8;
  size_t size = kHeaderFixed + VarintLength(n) + bitmap_size;
  for (size_t i = 0; i < n; ++i) {
    const Value& v = values[i];
    if (v.is_null()) continue;
    const DataType type = schema[i].type;
    if (v.type() != type || !KnownType(type)) return Invalid(i, "value of another type");
    const size_t width = kFixedWidth[static_cast<uint8_t>(type)];
    if (width != 0) {
      size += width;
      if (type == DataType::kSmallInt && (v.as_int() < INT16_MIN || v.as_int() > INT16_MAX)) {
        return Invalid(i, "SmallInt out of range");
      }
      if (type == DataType::kInt && (v.as_int() < INT32_MIN || v.as_int() > INT32_MAX)) {
        return Invalid(i, "Int out of range");
      }
      if (type == DataType::kUuid && v.as_bytes().size() != 16) {
        return Invalid(i, "a UUID must be 16 bytes");
      }
    } else {
      size += VarintLength(v.as_bytes().size()) + v.as_bytes().size();
    }
  }

  // Pass 2: write.
  const size_t start = out->size();
  out->resize(start + size);
  char* p = out->data() + start;
  *p++ = static_cast<char>(kRowFormatVersion);
  StoreLE(p, static_cast<uint64_t>(seq));
  p += 8;
  *p++ = static_cast<char>(deleted ? kDeletedFlag : 0);
  p = PutVarint(p, n);
  char* bitmap = p;
  std::memset(bitmap, 0, bitmap_size);
  p += bitmap_size;
  for (size_t i = 0; i < n; ++i) {
    const Value& v = values[i];
    if (v.is_null()) {
      bitmap[i / 8] = static_cast<char>(bitmap[i / 8] | (1 << (i % 8)));
      continue;
    }
    switch (schema[i].type) {
      case DataType::kBoolean:
        *p++ = v.as_bool() ? 1 : 0;
        break;
      case DataType::kSmallInt:
        StoreLE(p, static_cast<uint16_t>(v.as_int()));
        p += 2;
        break;
      case DataType::kInt:
        StoreLE(p, static_cast<uint32_t>(v.as_int()));
        p += 4;
        break;
      case DataType::kBigInt:
      case DataType::kTimestamp:
      case DataType::kDate:
      case DataType::kDateTime:
      case DataType::kTime:
        StoreLE(p, static_cast<uint64_t>(v.as_int()));
        p += 8;
        break;
      case DataType::kFloat:
        StoreLE(p, std::bit_cast<uint32_t>(static_cast<float>(v.as_double())));
        p += 4;
        break;
      case DataType::kDouble:
        StoreLE(p, std::bit_cast<uint64_t>(v.as_double()));
        p += 8;
        break;
      case DataType::kDecimal:
        StoreLE(p, static_cast<uint128_t>(v.as_decimal()));
        p += 16;
        break;
      case DataType::kUuid:
        std::memcpy(p, v.as_bytes().data(), 16);
        p += 16;
        break;
      case DataType::kText:
      case DataType::kBytes:
      case DataType::kJson: {
        const std::string_view bytes = v.as_bytes();
        p = PutVarint(p, bytes.size());
        if (!bytes.empty()) std::memcpy(p, bytes.data(), bytes.size());
        p += bytes.size();
        break;
      }
    }
  }
  return Status::OK();
}

Status DecodeRow(std::string_view bytes, std::span<const ColumnType> schema, RowView* out) {
  KALAMDB_RETURN_IF_ERROR(CheckHeader(bytes));
  out->seq = static_cast<int64_t>(LoadLE<uint64_t>(bytes.data() + 1));
  out->deleted = (static_cast<uint8_t>(bytes[9]) & kDeletedFlag) != 0;
  std::string_view in = bytes.substr(kHeaderFixed);
  uint64_t count = 0;
  if (!GetLength(&in, &count)) return Corrupt("bad column count");
  if (count > schema.size()) return Corrupt("more columns than the schema");
  const size_t n = static_cast<size_t>(count);
  const size_t bitmap_size = (n + 7) / 8;
  if (in.size() < bitmap_size) return Corrupt("truncated null bitmap");
  const char* bitmap = in.data();
  if (n % 8 != 0 && (static_cast<uint8_t>(bitmap[bitmap_size - 1]) >> (n % 8)) != 0) {
    return Corrupt("null bitmap padding set");
  }
  in.remove_prefix(bitmap_size);

  if (out->values.size() != schema.size()) out->values.resize(schema.size());
  // Values are built straight into their slots (`::new (slot) Value(Value::Int(...))`, a
  // guaranteed copy elision). Assigning a temporary instead made GCC 12 assemble each Value on
  // the stack with byte stores and copy it out with a wider load: a store-forwarding stall per
  // column that doubled decode time (bench/row_codec_bench.cc). Value is trivially destructible
  // and has no const or reference members, so reusing the slot is well defined.
  Value* values = out->values.data();
  for (size_t i = 0; i < n; ++i) {
    const DataType type = schema[i].type;
    if ((static_cast<uint8_t>(bitmap[i / 8]) >> (i % 8)) & 1) {
      ::new (values + i) Value(Value::Null(type));
      continue;
    }
    if (!KnownType(type)) return Corrupt("schema column of unknown type");
    const size_t width = kFixedWidth[static_cast<uint8_t>(type)];
    if (width == 0) {
      uint64_t len = 0;
      if (!GetLength(&in, &len) || len > in.size()) return Corrupt("truncated string");
      ::new (values + i) Value(Value::Bytes(type, in.substr(0, len)));
      in.remove_prefix(len);
      continue;
    }
    if (in.size() < width) return Corrupt("truncated value");
    const char* p = in.data();
    switch (type) {
      case DataType::kBoolean: {
        const uint8_t b = static_cast<uint8_t>(*p);
        if (b > 1) return Corrupt("bad boolean");
        ::new (values + i) Value(Value::Bool(b == 1));
        break;
      }
      case DataType::kSmallInt:
        ::new (values + i) Value(Value::Int(type, static_cast<int16_t>(LoadLE<uint16_t>(p))));
        break;
      case DataType::kInt:
        ::new (values + i) Value(Value::Int(type, static_cast<int32_t>(LoadLE<uint32_t>(p))));
        break;
      case DataType::kFloat:
        ::new (values + i) Value(Value::Double(type, std::bit_cast<float>(LoadLE<uint32_t>(p))));
        break;
      case DataType::kDouble:
        ::new (values + i) Value(Value::Double(type, std::bit_cast<double>(LoadLE<uint64_t>(p))));
        break;
      case DataType::kDecimal:
        ::new (values + i) Value(Value::Decimal(static_cast<int128_t>(LoadLE<uint128_t>(p))));
        break;
      case DataType::kUuid:
        ::new (values + i) Value(Value::Bytes(type, std::string_view(p, 16)));
        break;
      default:  // the 8-byte integer types
        ::new (values + i) Value(Value::Int(type, static_cast<int64_t>(LoadLE<uint64_t>(p))));
        break;
    }
    in.remove_prefix(width);
  }
  for (size_t i = n; i < schema.size(); ++i) ::new (values + i) Value(Value::Null(schema[i].type));
  if (!in.empty()) return Corrupt("trailing bytes");
  return Status::OK();
}

Result<int64_t> PeekSeq(std::string_view bytes) {
  KALAMDB_RETURN_IF_ERROR(CheckHeader(bytes));
  return static_cast<int64_t>(LoadLE<uint64_t>(bytes.data() + 1));
}

Result<bool> PeekDeleted(std::string_view bytes) {
  KALAMDB_RETURN_IF_ERROR(CheckHeader(bytes));
  return (static_cast<uint8_t>(bytes[9]) & kDeletedFlag) != 0;
}

Status RestampRow(std::string* row, int64_t seq, bool deleted) {
  KALAMDB_RETURN_IF_ERROR(CheckHeader(*row));
  StoreLE(row->data() + 1, static_cast<uint64_t>(seq));
  (*row)[9] = static_cast<char>(deleted ? kDeletedFlag : 0);
  return Status::OK();
}

}  // namespace kalamdb::storage
