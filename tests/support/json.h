// json.h: a parsed JSON document for test assertions (simdjson DOM), addressed by JSON Pointer.
//
//   JsonDoc doc(response.body);
//   ASSERT_TRUE(doc.ok()) << response.body;
//   EXPECT_EQ(doc.Str("/error/code"), "unauthorized");
//   EXPECT_EQ(doc.Keys(""), (std::vector<std::string>{"error", "message"}));
//
// Accessors return std::nullopt (or false / -1) when the pointer does not resolve or the value
// has another type, so a wrong shape fails the assertion instead of throwing.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kalamdb::test {

class JsonDoc {
 public:
  explicit JsonDoc(std::string_view text);
  JsonDoc(const JsonDoc&) = delete;
  JsonDoc& operator=(const JsonDoc&) = delete;

  bool ok() const { return error_ == simdjson::SUCCESS; }
  std::string error() const { return simdjson::error_message(error_); }

  bool Has(std::string_view pointer) const;
  std::optional<std::string> Str(std::string_view pointer) const;
  std::optional<int64_t> Int(std::string_view pointer) const;
  std::optional<double> Number(std::string_view pointer) const;  // any numeric value
  std::optional<bool> Bool(std::string_view pointer) const;
  bool IsNull(std::string_view pointer) const;
  bool IsString(std::string_view pointer) const { return Str(pointer).has_value(); }
  bool IsNumber(std::string_view pointer) const { return Number(pointer).has_value(); }
  // Array length, or -1 if not an array.
  int64_t Size(std::string_view pointer) const;
  // Object keys in document order (empty when not an object).
  std::vector<std::string> Keys(std::string_view pointer) const;
  // Compact JSON text of the value, or nullopt.
  std::optional<std::string> Minified(std::string_view pointer) const;

 private:
  std::optional<simdjson::dom::element> At(std::string_view pointer) const;

  simdjson::dom::parser parser_;
  simdjson::padded_string padded_;
  simdjson::dom::element root_;
  simdjson::error_code error_ = simdjson::UNINITIALIZED;
};

}  // namespace kalamdb::test
