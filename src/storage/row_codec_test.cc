#include "storage/row_codec.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace kalamdb::storage {
namespace {

__extension__ typedef unsigned __int128 uint128_t;

ColumnType Col(DataType type) { return ColumnType{type, 0, 0, 0}; }

// Bit-exact equality (NaN payloads and -0.0 included) of two values of one type.
bool SameValue(const Value& a, const Value& b) {
  if (a.type() != b.type() || a.is_null() != b.is_null()) return false;
  if (a.is_null()) return true;
  switch (PhysicalOf(a.type())) {
    case Physical::kBool:
      return a.as_bool() == b.as_bool();
    case Physical::kInt64:
      return a.as_int() == b.as_int();
    case Physical::kDouble:
      if (a.type() == DataType::kFloat) {  // stored as float32
        return std::bit_cast<uint32_t>(static_cast<float>(a.as_double())) ==
               std::bit_cast<uint32_t>(static_cast<float>(b.as_double()));
      }
      return std::bit_cast<uint64_t>(a.as_double()) == std::bit_cast<uint64_t>(b.as_double());
    case Physical::kInt128:
      return a.as_decimal() == b.as_decimal();
    case Physical::kBytes:
      return a.as_bytes() == b.as_bytes();
  }
  return false;
}

// One column of every type.
const std::vector<ColumnType>& AllTypesSchema() {
  static const std::vector<ColumnType> schema = {
      Col(DataType::kBoolean),  Col(DataType::kSmallInt),  Col(DataType::kInt),
      Col(DataType::kBigInt),   Col(DataType::kFloat),     Col(DataType::kDouble),
      Col(DataType::kDecimal),  Col(DataType::kText),      Col(DataType::kBytes),
      Col(DataType::kJson),     Col(DataType::kTimestamp), Col(DataType::kDate),
      Col(DataType::kDateTime), Col(DataType::kTime),      Col(DataType::kUuid)};
  return schema;
}

void ExpectRoundTrip(std::span<const ColumnType> schema, std::span<const Value> values, int64_t seq,
                     bool deleted) {
  std::string bytes;
  Status st = EncodeRow(schema, values, seq, deleted, &bytes);
  ASSERT_TRUE(st.ok()) << st.ToString();
  RowView row;
  st = DecodeRow(bytes, schema, &row);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(row.seq, seq);
  EXPECT_EQ(row.deleted, deleted);
  ASSERT_EQ(row.values.size(), values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    EXPECT_TRUE(SameValue(row.values[i], values[i])) << "column " << i;
    EXPECT_EQ(row.values[i].type(), schema[i].type) << "column " << i;
  }
}

TEST(RowCodecTest, GoldenBytes) {
  const ColumnType schema[] = {Col(DataType::kBigInt), Col(DataType::kText),
                               Col(DataType::kTimestamp)};
  const Value values[] = {Value::Int(DataType::kBigInt, 1), Value::Bytes(DataType::kText, "ab"),
                          Value::Null(DataType::kTimestamp)};
  std::string bytes;
  ASSERT_TRUE(EncodeRow(schema, values, 0x0102030405060708, /*deleted=*/true, &bytes).ok());
  const std::string expected(
      "\x01"                              // version
      "\x08\x07\x06\x05\x04\x03\x02\x01"  // seq, little-endian
      "\x01"                              // flags: deleted
      "\x03"                              // column_count
      "\x04"                              // null bitmap: column 2
      "\x01\x00\x00\x00\x00\x00\x00\x00"  // id
      "\x02"
      "ab",  // value
      23);
  EXPECT_EQ(bytes, expected);
}

TEST(RowCodecTest, RoundTripsEveryType) {
  const auto& schema = AllTypesSchema();
  const std::string uuid("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0A\x0B\x0C\x0D\x0E\xFF", 16);
  const std::string zero_uuid(16, '\0');
  const std::string blob("\0\x01\xFF\0", 4);
  const int128_t dec_min = static_cast<int128_t>(static_cast<uint128_t>(1) << 127);
  const int64_t i64_min = std::numeric_limits<int64_t>::min();
  const int64_t i64_max = std::numeric_limits<int64_t>::max();
  const std::vector<Value> maxima = {
      Value::Bool(true),
      Value::Int(DataType::kSmallInt, INT16_MAX),
      Value::Int(DataType::kInt, INT32_MAX),
      Value::Int(DataType::kBigInt, i64_max),
      Value::Double(DataType::kFloat, std::numeric_limits<float>::max()),
      Value::Double(DataType::kDouble, std::numeric_limits<double>::max()),
      Value::Decimal(~dec_min),
      Value::Bytes(DataType::kText, "héllo wörld"),
      Value::Bytes(DataType::kBytes, blob),
      Value::Bytes(DataType::kJson, R"({"a":[1,2]})"),
      Value::Int(DataType::kTimestamp, i64_max),
      Value::Int(DataType::kDate, i64_max),
      Value::Int(DataType::kDateTime, i64_max),
      Value::Int(DataType::kTime, i64_max),
      Value::Bytes(DataType::kUuid, uuid)};
  ExpectRoundTrip(schema, maxima, std::numeric_limits<int64_t>::max(), false);

  const std::vector<Value> minima = {Value::Bool(false),
                                     Value::Int(DataType::kSmallInt, INT16_MIN),
                                     Value::Int(DataType::kInt, INT32_MIN),
                                     Value::Int(DataType::kBigInt, i64_min),
                                     Value::Double(DataType::kFloat, -0.0),
                                     Value::Double(DataType::kDouble, -0.0),
                                     Value::Decimal(dec_min),
                                     Value::Bytes(DataType::kText, ""),
                                     Value::Bytes(DataType::kBytes, ""),
                                     Value::Bytes(DataType::kJson, "null"),
                                     Value::Int(DataType::kTimestamp, i64_min),
                                     Value::Int(DataType::kDate, i64_min),
                                     Value::Int(DataType::kDateTime, i64_min),
                                     Value::Int(DataType::kTime, 0),
                                     Value::Bytes(DataType::kUuid, zero_uuid)};
  ExpectRoundTrip(schema, minima, std::numeric_limits<int64_t>::min(), true);

  // Non-finite floats keep their bits (rows are not keys: no canonicalisation).
  for (double d :
       {std::numeric_limits<double>::quiet_NaN(), -std::numeric_limits<double>::quiet_NaN(),
        std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(),
        std::numeric_limits<double>::denorm_min()}) {
    const ColumnType two[] = {Col(DataType::kDouble), Col(DataType::kFloat)};
    const Value vals[] = {Value::Double(DataType::kDouble, d), Value::Double(DataType::kFloat, d)};
    ExpectRoundTrip(two, vals, 1, false);
  }

  // A long string needs a multi-byte length.
  const std::string long_text(100000, 'x');
  const ColumnType text_only[] = {Col(DataType::kText)};
  const Value long_value[] = {Value::Bytes(DataType::kText, long_text)};
  ExpectRoundTrip(text_only, long_value, 3, false);
}

TEST(RowCodecTest, NullsInEveryPosition) {
  const auto& schema = AllTypesSchema();
  std::vector<Value> all_null;
  for (const ColumnType& c : schema) all_null.push_back(Value::Null(c.type));
  ExpectRoundTrip(schema, all_null, 0, false);
  std::string bytes;
  ASSERT_TRUE(EncodeRow(schema, all_null, 0, false, &bytes).ok());
  EXPECT_EQ(bytes.size(), 10u + 1u + 2u);  // header, count, bitmap; no values

  // An untyped NULL (Value()) is accepted for any column and decodes as NULL of that type.
  const ColumnType one[] = {Col(DataType::kBigInt)};
  const Value untyped[] = {Value()};
  RowView row;
  bytes.clear();
  ASSERT_TRUE(EncodeRow(one, untyped, 0, false, &bytes).ok());
  ASSERT_TRUE(DecodeRow(bytes, one, &row).ok());
  EXPECT_TRUE(row.values[0].is_null());
  EXPECT_EQ(row.values[0].type(), DataType::kBigInt);

  // Zero columns.
  ExpectRoundTrip({}, {}, 5, true);
}

TEST(RowCodecTest, DecodedStringsBorrowTheRowBytes) {
  const ColumnType schema[] = {Col(DataType::kText), Col(DataType::kUuid)};
  const std::string uuid(16, '\x7E');
  const Value values[] = {Value::Bytes(DataType::kText, "borrowed"),
                          Value::Bytes(DataType::kUuid, uuid)};
  std::string bytes;
  ASSERT_TRUE(EncodeRow(schema, values, 1, false, &bytes).ok());
  RowView row;
  ASSERT_TRUE(DecodeRow(bytes, schema, &row).ok());
  for (const Value& v : row.values) {
    EXPECT_GE(v.as_bytes().data(), bytes.data());
    EXPECT_LE(v.as_bytes().data() + v.as_bytes().size(), bytes.data() + bytes.size());
  }
}

TEST(RowCodecTest, RowsWrittenWithFewerColumnsReadAddedColumnsAsNull) {
  const ColumnType old_schema[] = {Col(DataType::kBigInt), Col(DataType::kText)};
  const ColumnType new_schema[] = {Col(DataType::kBigInt), Col(DataType::kText),
                                   Col(DataType::kInt), Col(DataType::kTimestamp)};
  const Value values[] = {Value::Int(DataType::kBigInt, 9), Value::Bytes(DataType::kText, "t")};
  std::string bytes;
  ASSERT_TRUE(EncodeRow(old_schema, values, 4, false, &bytes).ok());
  RowView row;
  ASSERT_TRUE(DecodeRow(bytes, new_schema, &row).ok());
  ASSERT_EQ(row.values.size(), 4u);
  EXPECT_EQ(row.values[0].as_int(), 9);
  EXPECT_EQ(row.values[1].as_bytes(), "t");
  EXPECT_TRUE(row.values[2].is_null());
  EXPECT_EQ(row.values[2].type(), DataType::kInt);
  EXPECT_TRUE(row.values[3].is_null());
  EXPECT_EQ(row.values[3].type(), DataType::kTimestamp);

  // The reverse (a row with more columns than the schema) cannot be decoded.
  std::string wide;
  const Value four[] = {values[0], values[1], Value::Int(DataType::kInt, 1),
                        Value::Null(DataType::kTimestamp)};
  ASSERT_TRUE(EncodeRow(new_schema, four, 4, false, &wide).ok());
  EXPECT_EQ(DecodeRow(wide, old_schema, &row).code(), ErrorCode::kCorruption);
}

TEST(RowCodecTest, RejectsBadInputAndLeavesOutputUnchanged) {
  const ColumnType schema[] = {Col(DataType::kSmallInt), Col(DataType::kInt), Col(DataType::kUuid)};
  std::string out = "prefix";
  auto encode = [&](const Value& a, const Value& b, const Value& c) {
    const Value values[] = {a, b, c};
    return EncodeRow(schema, values, 0, false, &out).code();
  };
  const Value null_int = Value::Null(DataType::kInt), null_uuid = Value::Null(DataType::kUuid);
  EXPECT_EQ(encode(Value::Int(DataType::kSmallInt, 32768), null_int, null_uuid),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(encode(Value::Int(DataType::kSmallInt, -32769), null_int, null_uuid),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(encode(Value(), Value::Int(DataType::kInt, int64_t{1} << 31), null_uuid),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(encode(Value(), null_int, Value::Bytes(DataType::kUuid, "not 16 bytes")),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(encode(Value::Int(DataType::kBigInt, 1), null_int, null_uuid),
            ErrorCode::kInvalidArgument);  // BigInt value in a SmallInt column
  const Value two[] = {Value(), Value()};
  EXPECT_EQ(EncodeRow(schema, two, 0, false, &out).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(out, "prefix");
  EXPECT_EQ(encode(Value::Int(DataType::kSmallInt, -32768), null_int, null_uuid), ErrorCode::kOk);
  EXPECT_TRUE(out.starts_with("prefix"));  // appends
}

TEST(RowCodecTest, PeekAndRestampReadOnlyTheHeader) {
  const ColumnType schema[] = {Col(DataType::kText)};
  const Value values[] = {Value::Bytes(DataType::kText, "body")};
  std::string bytes;
  ASSERT_TRUE(EncodeRow(schema, values, -42, false, &bytes).ok());
  EXPECT_EQ(*PeekSeq(bytes), -42);
  EXPECT_FALSE(*PeekDeleted(bytes));
  ASSERT_TRUE(RestampRow(&bytes, 77, true).ok());
  EXPECT_EQ(*PeekSeq(bytes), 77);
  EXPECT_TRUE(*PeekDeleted(bytes));
  RowView row;
  ASSERT_TRUE(DecodeRow(bytes, schema, &row).ok());
  EXPECT_EQ(row.seq, 77);
  EXPECT_TRUE(row.deleted);
  EXPECT_EQ(row.values[0].as_bytes(), "body");

  EXPECT_EQ(PeekSeq(bytes.substr(0, 9)).status().code(), ErrorCode::kCorruption);
  EXPECT_EQ(PeekDeleted("").status().code(), ErrorCode::kCorruption);
  std::string v2 = bytes;
  v2[0] = 2;
  EXPECT_EQ(PeekSeq(v2).status().code(), ErrorCode::kCorruption);
  EXPECT_EQ(DecodeRow(v2, schema, &row).code(), ErrorCode::kCorruption);
  std::string short_row = "x";
  EXPECT_EQ(RestampRow(&short_row, 1, true).code(), ErrorCode::kCorruption);
  EXPECT_EQ(short_row, "x");
}

// Reusing the output string and the RowView: no reallocation once they have grown.
TEST(RowCodecTest, SteadyStateReusesBuffers) {
  const ColumnType schema[] = {Col(DataType::kBigInt), Col(DataType::kText),
                               Col(DataType::kTimestamp)};
  std::string out;
  RowView row;
  const char* out_data = nullptr;
  const Value* row_data = nullptr;
  for (int i = 0; i < 1000; ++i) {
    const std::string text = "value-" + std::to_string(i % 10);  // same length each lap
    const Value values[] = {Value::Int(DataType::kBigInt, i), Value::Bytes(DataType::kText, text),
                            Value::Int(DataType::kTimestamp, 1700000000000000 + i)};
    out.clear();
    ASSERT_TRUE(EncodeRow(schema, values, i, false, &out).ok());
    ASSERT_TRUE(DecodeRow(out, schema, &row).ok());
    ASSERT_EQ(row.values[0].as_int(), i);
    if (i == 0) {
      out_data = out.data();
      row_data = row.values.data();
    } else {
      ASSERT_EQ(out.data(), out_data);
      ASSERT_EQ(row.values.data(), row_data);
    }
  }
}

// Every proper prefix of a valid row, and the row with a byte appended, is refused.
TEST(RowCodecTest, TruncatedOrExtendedRowsAreCorrupt) {
  const auto& schema = AllTypesSchema();
  const std::string uuid(16, '\x01');
  const std::vector<Value> values = {Value::Bool(true),
                                     Value::Null(DataType::kSmallInt),
                                     Value::Int(DataType::kInt, -7),
                                     Value::Int(DataType::kBigInt, 1),
                                     Value::Double(DataType::kFloat, 1.5),
                                     Value::Double(DataType::kDouble, -2.25),
                                     Value::Decimal(-12345),
                                     Value::Bytes(DataType::kText, "text"),
                                     Value::Bytes(DataType::kBytes, std::string_view("\0", 1)),
                                     Value::Null(DataType::kJson),
                                     Value::Int(DataType::kTimestamp, 5),
                                     Value::Int(DataType::kDate, 6),
                                     Value::Int(DataType::kDateTime, 7),
                                     Value::Int(DataType::kTime, 8),
                                     Value::Bytes(DataType::kUuid, uuid)};
  std::string bytes;
  ASSERT_TRUE(EncodeRow(schema, values, 1, false, &bytes).ok());
  RowView row;
  ASSERT_TRUE(DecodeRow(bytes, schema, &row).ok());
  for (size_t len = 0; len < bytes.size(); ++len) {
    EXPECT_EQ(DecodeRow(bytes.substr(0, len), schema, &row).code(), ErrorCode::kCorruption)
        << "length " << len;
  }
  EXPECT_EQ(DecodeRow(bytes + '\0', schema, &row).code(), ErrorCode::kCorruption);
  std::string bad_flags = bytes;
  bad_flags[9] = 0x02;
  EXPECT_EQ(DecodeRow(bad_flags, schema, &row).code(), ErrorCode::kCorruption);
  std::string bad_bool = bytes;
  bad_bool[10 + 1 + 2] = 0x02;  // the first value: the Boolean
  EXPECT_EQ(DecodeRow(bad_bool, schema, &row).code(), ErrorCode::kCorruption);
  std::string bad_padding = bytes;
  bad_padding[10 + 1 + 1] = static_cast<char>(bad_padding[12] | 0x80);  // bit 15 of 15 columns
  EXPECT_EQ(DecodeRow(bad_padding, schema, &row).code(), ErrorCode::kCorruption);
}

// Garbage and mutated rows never crash the decoder: each call returns OK or kCorruption, and an
// OK result's strings lie inside the input.
TEST(RowCodecTest, FuzzDecodeWithGarbageAndMutations) {
  const auto& schema = AllTypesSchema();
  std::mt19937_64 rng(4242);
  const std::string uuid(16, 'u');
  const std::vector<Value> values = {Value::Bool(false),
                                     Value::Int(DataType::kSmallInt, 3),
                                     Value::Null(DataType::kInt),
                                     Value::Int(DataType::kBigInt, 1),
                                     Value::Double(DataType::kFloat, 1.5),
                                     Value::Null(DataType::kDouble),
                                     Value::Decimal(99),
                                     Value::Bytes(DataType::kText, "some text here"),
                                     Value::Bytes(DataType::kBytes, ""),
                                     Value::Bytes(DataType::kJson, "{}"),
                                     Value::Int(DataType::kTimestamp, 5),
                                     Value::Null(DataType::kDate),
                                     Value::Int(DataType::kDateTime, 7),
                                     Value::Int(DataType::kTime, 8),
                                     Value::Bytes(DataType::kUuid, uuid)};
  std::string valid;
  ASSERT_TRUE(EncodeRow(schema, values, 1, false, &valid).ok());

  std::string bytes;
  RowView row;
  int ok_count = 0;
  for (int iter = 0; iter < 10000; ++iter) {
    switch (iter % 3) {
      case 0:  // random bytes behind a plausible header
        bytes.assign(valid, 0, 10);
        bytes.resize(10 + rng() % 60);
        for (size_t i = 10; i < bytes.size(); ++i) bytes[i] = static_cast<char>(rng());
        break;
      case 1:  // a valid row with a few random bytes changed
        bytes = valid;
        for (int flips = 1 + rng() % 3; flips > 0; --flips) {
          bytes[rng() % bytes.size()] = static_cast<char>(rng());
        }
        break;
      default:  // pure noise of any length
        bytes.resize(rng() % 80);
        for (char& c : bytes) c = static_cast<char>(rng());
        break;
    }
    const size_t columns = rng() % (schema.size() + 1);  // and schemas of any width
    const std::span<const ColumnType> s(schema.data(), columns);
    Status st = DecodeRow(bytes, s, &row);
    ASSERT_TRUE(st.ok() || st.code() == ErrorCode::kCorruption) << st.ToString();
    if (!st.ok()) continue;
    ++ok_count;
    ASSERT_EQ(row.values.size(), columns);
    for (const Value& v : row.values) {
      if (v.is_null() || PhysicalOf(v.type()) != Physical::kBytes) continue;
      ASSERT_GE(v.as_bytes().data(), bytes.data());
      ASSERT_LE(v.as_bytes().data() + v.as_bytes().size(), bytes.data() + bytes.size());
    }
  }
  EXPECT_GT(ok_count, 0);  // the mutations do reach the value decoders
}

}  // namespace
}  // namespace kalamdb::storage
