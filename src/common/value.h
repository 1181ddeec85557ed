// value.h: column data types and the typed scalar the engine passes between parse, coercion,
// encoding and storage.
//
// A Value is a small, trivially copyable tagged union. Text, JSON, bytes and UUID values
// *borrow* their bytes (string_view): whoever builds the Value says how long they stay valid
// (usually the request body or a row pinned from storage for the length of a statement).
#pragma once

#include <cstdint>
#include <string_view>

namespace kalamdb {

__extension__ typedef __int128 int128_t;  // GCC/Clang builtin; __extension__ keeps -Wpedantic quiet
__extension__ typedef unsigned __int128 uint128_t;

// Logical column types (KalamDataType names on the wire, see DataTypeName).
enum class DataType : uint8_t {
  kBoolean = 1,
  kSmallInt = 2,    // int16
  kInt = 3,         // int32
  kBigInt = 4,      // int64
  kFloat = 5,       // float32, kept as double in a Value
  kDouble = 6,      // float64
  kDecimal = 7,     // int128 scaled by the column's scale
  kText = 8,        // UTF-8
  kBytes = 9,       // raw bytes
  kJson = 10,       // JSON text
  kTimestamp = 11,  // microseconds since the Unix epoch, no time zone
  kDate = 12,       // days since the Unix epoch
  kDateTime = 13,   // microseconds since the Unix epoch, UTC
  kTime = 14,       // microseconds since midnight
  kUuid = 15,       // 16 bytes
};

// "Boolean", "SmallInt", "Int", "BigInt", "Float", "Double", "Decimal", "Text", "Bytes", "Json",
// "Timestamp", "Date", "DateTime", "Time", "Uuid".
std::string_view DataTypeName(DataType type);

// How a type is held in a Value.
enum class Physical : uint8_t { kBool, kInt64, kDouble, kInt128, kBytes };
constexpr Physical PhysicalOf(DataType type) {
  switch (type) {
    case DataType::kBoolean:
      return Physical::kBool;
    case DataType::kFloat:
    case DataType::kDouble:
      return Physical::kDouble;
    case DataType::kDecimal:
      return Physical::kInt128;
    case DataType::kText:
    case DataType::kBytes:
    case DataType::kJson:
    case DataType::kUuid:
      return Physical::kBytes;
    default:
      return Physical::kInt64;
  }
}

// A column's full type: DECIMAL carries precision and scale (1 <= precision <= 38,
// scale <= precision); VARCHAR(n) keeps n as max_length (0 = unlimited).
struct ColumnType {
  DataType type = DataType::kText;
  uint8_t precision = 0;
  uint8_t scale = 0;
  uint32_t max_length = 0;
};

class Value {
 public:
  // NULL of no particular type.
  Value() = default;
  static Value Null(DataType type) {
    Value v;
    v.type_ = type;
    return v;
  }
  static Value Bool(bool b) {
    Value v(DataType::kBoolean);
    v.u_.b = b;
    return v;
  }
  // For every integer-like type (SmallInt, Int, BigInt, Timestamp, Date, DateTime, Time).
  static Value Int(DataType type, int64_t i) {
    Value v(type);
    v.u_.i = i;
    return v;
  }
  static Value Double(DataType type, double d) {
    Value v(type);
    v.u_.d = d;
    return v;
  }
  static Value Decimal(int128_t scaled) {
    Value v(DataType::kDecimal);
    v.u_.dec = scaled;
    return v;
  }
  // Text, Json, Bytes, Uuid: borrows `bytes`.
  static Value Bytes(DataType type, std::string_view bytes) {
    Value v(type);
    v.u_.s = {bytes.data(), bytes.size()};
    return v;
  }

  DataType type() const { return type_; }
  bool is_null() const { return null_; }
  // REQUIRES: !is_null() and the physical kind matches.
  bool as_bool() const { return u_.b; }
  int64_t as_int() const { return u_.i; }
  double as_double() const { return u_.d; }
  int128_t as_decimal() const { return u_.dec; }
  std::string_view as_bytes() const { return {u_.s.data, u_.s.size}; }

 private:
  explicit Value(DataType type) : type_(type), null_(false) {}
  union Payload {
    bool b;
    int64_t i;
    double d;
    int128_t dec;
    struct {
      const char* data;
      size_t size;
    } s;
  };
  Payload u_{};
  DataType type_ = DataType::kText;
  bool null_ = true;
};

}  // namespace kalamdb
