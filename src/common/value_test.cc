#include "common/value.h"

#include <gtest/gtest.h>

#include <type_traits>

namespace kalamdb {
namespace {

TEST(ValueTest, NullsCarryTheirType) {
  Value untyped;
  EXPECT_TRUE(untyped.is_null());
  Value v = Value::Null(DataType::kBigInt);
  EXPECT_TRUE(v.is_null());
  EXPECT_EQ(v.type(), DataType::kBigInt);
}

TEST(ValueTest, ScalarsRoundTrip) {
  EXPECT_TRUE(Value::Bool(true).as_bool());
  EXPECT_EQ(Value::Int(DataType::kTimestamp, -5).as_int(), -5);
  EXPECT_EQ(Value::Int(DataType::kTimestamp, -5).type(), DataType::kTimestamp);
  EXPECT_DOUBLE_EQ(Value::Double(DataType::kDouble, 2.5).as_double(), 2.5);
  int128_t big = static_cast<int128_t>(1) << 100;
  EXPECT_TRUE(Value::Decimal(big).as_decimal() == big);
  std::string text = "héllo";
  Value t = Value::Bytes(DataType::kText, text);
  EXPECT_EQ(t.as_bytes(), text);
  EXPECT_EQ(t.as_bytes().data(), text.data());  // borrowed, not copied
  EXPECT_FALSE(t.is_null());
}

TEST(ValueTest, IsSmallAndTriviallyCopyable) {
  EXPECT_TRUE(std::is_trivially_copyable_v<Value>);
  EXPECT_LE(sizeof(Value), 32u);
}

TEST(DataTypeTest, WireNamesAndPhysicalKinds) {
  EXPECT_EQ(DataTypeName(DataType::kBigInt), "BigInt");
  EXPECT_EQ(DataTypeName(DataType::kDateTime), "DateTime");
  EXPECT_EQ(PhysicalOf(DataType::kTimestamp), Physical::kInt64);
  EXPECT_EQ(PhysicalOf(DataType::kJson), Physical::kBytes);
  EXPECT_EQ(PhysicalOf(DataType::kFloat), Physical::kDouble);
  EXPECT_EQ(PhysicalOf(DataType::kDecimal), Physical::kInt128);
}

}  // namespace
}  // namespace kalamdb
