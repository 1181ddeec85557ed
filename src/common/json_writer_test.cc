#include "common/json_writer.h"

#include <gtest/gtest.h>

namespace kalamdb {
namespace {

TEST(JsonWriterTest, NestedObjectsAndArraysGetCommasRight) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject();
  w.Key("a").Int(1);
  w.Key("b").BeginArray().String("x").Null().Bool(true).BeginObject().EndObject().EndArray();
  w.Key("c").Double(2.4170001, 3);
  w.Key("d").Raw("[1,2]");
  w.EndObject();
  EXPECT_EQ(out, R"({"a":1,"b":["x",null,true,{}],"c":2.417,"d":[1,2]})");
}

TEST(JsonWriterTest, EscapesControlCharactersAndQuotes) {
  std::string out;
  AppendJsonString(out, std::string("a\"b\\c\n\x01", 7));
  EXPECT_EQ(out, R"("a\"b\\c\n\u0001")");
}

TEST(JsonWriterTest, DoubleTrimsZerosAndHandlesNonFinite) {
  std::string out;
  JsonWriter w(out);
  w.BeginArray().Double(1.0, 3).Double(0.5, 3).Double(-0.0001, 3).Double(1.0 / 0.0).EndArray();
  EXPECT_EQ(out, "[1,0.5,-0,null]");
}

}  // namespace
}  // namespace kalamdb
