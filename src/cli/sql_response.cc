#include "cli/sql_response.h"

#include <simdjson.h>

namespace kalamdb::cli {
namespace {

SqlResponse Invalid(int http_status, std::string_view body) {
  SqlResponse out;
  out.http_status = http_status;
  out.error_code = "INVALID_RESPONSE";
  out.error_message =
      "HTTP " + std::to_string(http_status) + ": " + std::string(body.substr(0, 500));
  return out;
}

Cell ToCell(simdjson::dom::element value) {
  Cell cell;
  cell.json = simdjson::minify(value);
  if (value.is_null()) {
    cell.is_null = true;
    cell.text = "NULL";
  } else if (value.is_string()) {
    cell.text = std::string(value.get_string().value_unsafe());
  } else {
    cell.text = cell.json;
  }
  return cell;
}

}  // namespace

SqlResponse ParseSqlResponse(int http_status, std::string_view body) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(body);
  simdjson::dom::element root;
  if (parser.parse(padded).get(root) != simdjson::SUCCESS || !root.is_object()) {
    return Invalid(http_status, body);
  }
  SqlResponse out;
  out.http_status = http_status;
  double took = 0;
  if (root["took"].get_double().get(took) == simdjson::SUCCESS) out.took_ms = took;
  simdjson::dom::object error;
  if (root["error"].get_object().get(error) == simdjson::SUCCESS) {
    std::string_view code;
    std::string_view message;
    if (error["code"].get_string().get(code) != simdjson::SUCCESS) code = "UNKNOWN_ERROR";
    if (error["message"].get_string().get(message) != simdjson::SUCCESS) message = "";
    out.error_code = std::string(code);
    out.error_message = std::string(message);
    return out;
  }
  std::string_view status;
  if (root["status"].get_string().get(status) != simdjson::SUCCESS || status != "success" ||
      http_status != 200) {
    return Invalid(http_status, body);
  }
  simdjson::dom::array results;
  if (root["results"].get_array().get(results) != simdjson::SUCCESS) {
    return Invalid(http_status, body);
  }
  for (simdjson::dom::element item : results) {
    QueryResult result;
    simdjson::dom::array schema;
    if (item["schema"].get_array().get(schema) == simdjson::SUCCESS) {
      for (simdjson::dom::element column : schema) {
        std::string_view name;
        if (column["name"].get_string().get(name) != simdjson::SUCCESS) name = "?";
        int64_t index = static_cast<int64_t>(result.columns.size());
        if (column["index"].get_int64().get(index) != simdjson::SUCCESS) {
          index = static_cast<int64_t>(result.columns.size());
        }
        if (index < 0 || index > 100000) index = static_cast<int64_t>(result.columns.size());
        if (static_cast<size_t>(index) >= result.columns.size()) {
          result.columns.resize(static_cast<size_t>(index) + 1);
        }
        result.columns[static_cast<size_t>(index)] = std::string(name);
      }
    }
    simdjson::dom::array rows;
    if (item["rows"].get_array().get(rows) == simdjson::SUCCESS) {
      result.has_rows = true;
      for (simdjson::dom::element row : rows) {
        std::vector<Cell> cells;
        simdjson::dom::array values;
        if (row.get_array().get(values) == simdjson::SUCCESS) {
          for (simdjson::dom::element value : values) cells.push_back(ToCell(value));
        }
        result.rows.push_back(std::move(cells));
      }
    }
    int64_t row_count = 0;
    if (item["row_count"].get_int64().get(row_count) == simdjson::SUCCESS) {
      result.row_count = row_count;
    } else {
      result.row_count = static_cast<int64_t>(result.rows.size());
    }
    std::string_view message;
    if (item["message"].get_string().get(message) == simdjson::SUCCESS) {
      result.message = std::string(message);
    }
    out.results.push_back(std::move(result));
  }
  out.ok = true;
  return out;
}

}  // namespace kalamdb::cli
