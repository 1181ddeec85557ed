#include "support/json.h"

namespace kalamdb::test {

JsonDoc::JsonDoc(std::string_view text) : padded_(text) {
  error_ = parser_.parse(padded_).get(root_);
}

std::optional<simdjson::dom::element> JsonDoc::At(std::string_view pointer) const {
  if (!ok()) return std::nullopt;
  simdjson::dom::element value;
  if (root_.at_pointer(pointer).get(value) != simdjson::SUCCESS) return std::nullopt;
  return value;
}

bool JsonDoc::Has(std::string_view pointer) const { return At(pointer).has_value(); }

std::optional<std::string> JsonDoc::Str(std::string_view pointer) const {
  auto value = At(pointer);
  std::string_view text;
  if (!value || value->get_string().get(text) != simdjson::SUCCESS) return std::nullopt;
  return std::string(text);
}

std::optional<int64_t> JsonDoc::Int(std::string_view pointer) const {
  auto value = At(pointer);
  int64_t number = 0;
  if (!value || value->get_int64().get(number) != simdjson::SUCCESS) return std::nullopt;
  return number;
}

std::optional<double> JsonDoc::Number(std::string_view pointer) const {
  auto value = At(pointer);
  if (!value || !value->is_number()) return std::nullopt;
  double number = 0;
  if (value->get_double().get(number) == simdjson::SUCCESS) return number;
  int64_t i = 0;
  if (value->get_int64().get(i) == simdjson::SUCCESS) return static_cast<double>(i);
  uint64_t u = 0;
  if (value->get_uint64().get(u) == simdjson::SUCCESS) return static_cast<double>(u);
  return std::nullopt;
}

std::optional<bool> JsonDoc::Bool(std::string_view pointer) const {
  auto value = At(pointer);
  bool b = false;
  if (!value || value->get_bool().get(b) != simdjson::SUCCESS) return std::nullopt;
  return b;
}

bool JsonDoc::IsNull(std::string_view pointer) const {
  auto value = At(pointer);
  return value && value->is_null();
}

int64_t JsonDoc::Size(std::string_view pointer) const {
  auto value = At(pointer);
  simdjson::dom::array array;
  if (!value || value->get_array().get(array) != simdjson::SUCCESS) return -1;
  return static_cast<int64_t>(array.size());
}

std::vector<std::string> JsonDoc::Keys(std::string_view pointer) const {
  std::vector<std::string> keys;
  auto value = At(pointer);
  simdjson::dom::object object;
  if (!value || value->get_object().get(object) != simdjson::SUCCESS) return keys;
  for (auto field : object) keys.emplace_back(field.key);
  return keys;
}

std::optional<std::string> JsonDoc::Minified(std::string_view pointer) const {
  auto value = At(pointer);
  if (!value) return std::nullopt;
  return simdjson::minify(*value);
}

}  // namespace kalamdb::test
