// json_writer.h: appends compact JSON to a caller-owned std::string in one pass.
//
// The writer tracks commas itself; callers only open, close and emit. It does not validate
// nesting beyond debug assertions. Not thread-safe; one writer per output buffer.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kalamdb {

class JsonWriter {
 public:
  // Appends to `out`, which must outlive the writer.
  explicit JsonWriter(std::string& out) : out_(out) {}

  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  // Emits `"key":` inside an object; the next call writes the value.
  JsonWriter& Key(std::string_view key);
  JsonWriter& String(std::string_view value);
  JsonWriter& Int(int64_t value);
  // Writes a double with up to `decimals` places, trailing zeros trimmed (3 -> "2.417").
  JsonWriter& Double(double value, int decimals = 6);
  JsonWriter& Bool(bool value);
  JsonWriter& Null();
  // Writes `json` verbatim as one value. REQUIRES: `json` is valid JSON.
  JsonWriter& Raw(std::string_view json);

 private:
  void Separator();
  std::string& out_;
  // One entry per open container: true once it holds a value (a comma is due).
  std::vector<bool> has_value_;
  bool after_key_ = false;
};

// Appends `value` to `out` as a JSON string literal with quotes and escapes.
void AppendJsonString(std::string& out, std::string_view value);

}  // namespace kalamdb
