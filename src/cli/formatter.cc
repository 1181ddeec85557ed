#include "cli/formatter.h"

#include <algorithm>
#include <cstdio>
#include <vector>

#include "common/json_writer.h"

namespace kalamdb::cli {
namespace {

std::string TableText(const Cell& cell) {
  std::string out;
  for (char c : cell.text) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else {
      out += c;
    }
  }
  return out;
}

void AppendPadded(std::string& out, std::string_view text, size_t width, bool pad) {
  out.append(text);
  if (!pad) return;
  size_t shown = DisplayWidth(text);
  if (shown < width) out.append(width - shown, ' ');
}

std::string FormatTook(double took_ms) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.3f", took_ms);
  return buf;
}

std::string FormatTable(const QueryResult& result, double took_ms) {
  size_t ncols = result.columns.size();
  for (const auto& row : result.rows) ncols = std::max(ncols, row.size());
  std::vector<std::string> header(ncols);
  for (size_t i = 0; i < result.columns.size(); ++i) header[i] = result.columns[i];
  std::vector<std::vector<std::string>> cells;
  cells.reserve(result.rows.size());
  std::vector<size_t> width(ncols, 0);
  for (size_t i = 0; i < ncols; ++i) width[i] = DisplayWidth(header[i]);
  for (const auto& row : result.rows) {
    std::vector<std::string> line(ncols);
    for (size_t i = 0; i < row.size(); ++i) {
      line[i] = TableText(row[i]);
      width[i] = std::max(width[i], DisplayWidth(line[i]));
    }
    cells.push_back(std::move(line));
  }
  std::string out;
  auto append_line = [&](const std::vector<std::string>& values) {
    for (size_t i = 0; i < ncols; ++i) {
      if (i > 0) out += " | ";
      AppendPadded(out, values[i], width[i], i + 1 < ncols);
    }
    out += '\n';
  };
  if (ncols > 0) {
    append_line(header);
    for (size_t i = 0; i < ncols; ++i) {
      if (i > 0) out += "-+-";
      out.append(width[i], '-');
    }
    out += '\n';
    for (const auto& line : cells) append_line(line);
  }
  size_t n = result.rows.size();
  out += "(" + std::to_string(n) + (n == 1 ? " row" : " rows") + ") in " + FormatTook(took_ms) +
         " ms\n";
  return out;
}

std::string FormatJson(const QueryResult& result) {
  std::string out;
  JsonWriter writer(out);
  if (!result.has_rows) {
    writer.BeginObject();
    writer.Key("message").String(result.message);
    writer.Key("row_count").Int(result.row_count);
    writer.EndObject();
    out += '\n';
    return out;
  }
  writer.BeginArray();
  for (const auto& row : result.rows) {
    writer.BeginObject();
    for (size_t i = 0; i < row.size(); ++i) {
      std::string name = i < result.columns.size() ? result.columns[i] : "col" + std::to_string(i);
      writer.Key(name).Raw(row[i].json);
    }
    writer.EndObject();
  }
  writer.EndArray();
  out += '\n';
  return out;
}

void AppendCsvField(std::string& out, std::string_view value) {
  if (value.find_first_of(",\"\r\n") == std::string_view::npos) {
    out.append(value);
    return;
  }
  out += '"';
  for (char c : value) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

std::string FormatCsv(const QueryResult& result) {
  std::string out;
  for (size_t i = 0; i < result.columns.size(); ++i) {
    if (i > 0) out += ',';
    AppendCsvField(out, result.columns[i]);
  }
  out += '\n';
  for (const auto& row : result.rows) {
    for (size_t i = 0; i < row.size(); ++i) {
      if (i > 0) out += ',';
      if (!row[i].is_null) AppendCsvField(out, row[i].text);
    }
    out += '\n';
  }
  return out;
}

}  // namespace

std::optional<Format> ParseFormat(std::string_view name) {
  if (name == "table") return Format::kTable;
  if (name == "json") return Format::kJson;
  if (name == "csv") return Format::kCsv;
  return std::nullopt;
}

std::string_view FormatName(Format format) {
  switch (format) {
    case Format::kTable:
      return "table";
    case Format::kJson:
      return "json";
    case Format::kCsv:
      return "csv";
  }
  return "table";
}

size_t DisplayWidth(std::string_view text) {
  size_t n = 0;
  for (char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

std::string FormatResult(const QueryResult& result, Format format, double took_ms) {
  if (format == Format::kJson) return FormatJson(result);
  if (!result.has_rows) {
    if (!result.message.empty()) return result.message + "\n";
    return "OK, " + std::to_string(result.row_count) + " row(s)\n";
  }
  if (format == Format::kCsv) return FormatCsv(result);
  return FormatTable(result, took_ms);
}

}  // namespace kalamdb::cli
