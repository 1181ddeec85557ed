#include "common/value.h"

namespace kalamdb {

std::string_view DataTypeName(DataType type) {
  switch (type) {
    case DataType::kBoolean:
      return "Boolean";
    case DataType::kSmallInt:
      return "SmallInt";
    case DataType::kInt:
      return "Int";
    case DataType::kBigInt:
      return "BigInt";
    case DataType::kFloat:
      return "Float";
    case DataType::kDouble:
      return "Double";
    case DataType::kDecimal:
      return "Decimal";
    case DataType::kText:
      return "Text";
    case DataType::kBytes:
      return "Bytes";
    case DataType::kJson:
      return "Json";
    case DataType::kTimestamp:
      return "Timestamp";
    case DataType::kDate:
      return "Date";
    case DataType::kDateTime:
      return "DateTime";
    case DataType::kTime:
      return "Time";
    case DataType::kUuid:
      return "Uuid";
  }
  return "Text";
}

}  // namespace kalamdb
