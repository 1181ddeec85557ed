#include "sql/encode.h"

#include <cstdio>

#include "common/json_writer.h"

namespace kalamdb::sql {
namespace {

std::string DecimalText(int128_t v, int scale) {
  bool negative = v < 0;
  uint128_t u = negative ? static_cast<uint128_t>(-(v + 1)) + 1 : static_cast<uint128_t>(v);
  std::string digits;
  do {
    digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(u % 10)));
    u /= 10;
  } while (u != 0);
  while (static_cast<int>(digits.size()) <= scale) digits.insert(digits.begin(), '0');
  if (scale > 0) digits.insert(digits.end() - scale, '.');
  return negative ? "-" + digits : digits;
}

}  // namespace

std::string SchemaTypeName(const ColumnType& type) {
  if (type.type != DataType::kDecimal) return std::string(DataTypeName(type.type));
  return "{\"Decimal\":{\"precision\":" + std::to_string(type.precision) +
         ",\"scale\":" + std::to_string(type.scale) + "}}";
}

std::string FormatUuid(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    auto b = static_cast<unsigned char>(bytes[i]);
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

std::string ValueText(const Value& value, int scale) {
  if (value.is_null()) return "NULL";
  switch (PhysicalOf(value.type())) {
    case Physical::kBool:
      return value.as_bool() ? "true" : "false";
    case Physical::kInt64:
      return std::to_string(value.as_int());
    case Physical::kDouble: {
      std::string out;
      JsonWriter(out).Double(value.as_double(), 15);
      return out;
    }
    case Physical::kInt128:
      return DecimalText(value.as_decimal(), scale);
    case Physical::kBytes:
      return value.type() == DataType::kUuid ? FormatUuid(value.as_bytes())
                                             : std::string(value.as_bytes());
  }
  return {};
}

void AppendJsonCell(std::string& out, const Value& value, int scale) {
  if (value.is_null()) {
    out += "null";
    return;
  }
  switch (value.type()) {
    case DataType::kBoolean:
      out += value.as_bool() ? "true" : "false";
      return;
    case DataType::kBigInt:
      out.push_back('"');
      out += std::to_string(value.as_int());
      out.push_back('"');
      return;
    case DataType::kSmallInt:
    case DataType::kInt:
    case DataType::kTimestamp:
    case DataType::kDateTime:
    case DataType::kDate:
    case DataType::kTime:
      out += std::to_string(value.as_int());
      return;
    case DataType::kFloat:
    case DataType::kDouble:
      JsonWriter(out).Double(value.as_double(), 15);
      return;
    case DataType::kDecimal:
      AppendJsonString(out, DecimalText(value.as_decimal(), scale));
      return;
    case DataType::kText:
    case DataType::kJson:
      AppendJsonString(out, value.as_bytes());
      return;
    case DataType::kUuid:
      AppendJsonString(out, FormatUuid(value.as_bytes()));
      return;
    case DataType::kBytes: {
      out.push_back('[');
      bool first = true;
      for (unsigned char b : value.as_bytes()) {
        if (!first) out.push_back(',');
        first = false;
        out += std::to_string(b);
      }
      out.push_back(']');
      return;
    }
  }
}

}  // namespace kalamdb::sql
