// encode.h (internal to src/sql): Values to JSON cells (reference §4.4) and to display text.
#pragma once

#include <string>

#include "common/value.h"

namespace kalamdb::sql {

// Appends `value` as a JSON cell: BIGINT and DECIMAL as strings, narrower integers, floats,
// TIMESTAMP/DATE/TIME as numbers, TEXT/JSON/UUID as strings, BYTES as an array of byte
// numbers, NULL as null. `scale` is the column's DECIMAL scale.
void AppendJsonCell(std::string& out, const Value& value, int scale = 0);
// The value as plain text for messages ("42", "abc", "NULL").
std::string ValueText(const Value& value, int scale = 0);
// The schema's data_type for a column: "BigInt", "Text" ..., or for DECIMAL the JSON object
// {"Decimal":{"precision":P,"scale":S}} (the api writes a value starting with '{' verbatim).
std::string SchemaTypeName(const ColumnType& type);
// A 16-byte UUID in canonical lower-case form.
std::string FormatUuid(std::string_view bytes);

}  // namespace kalamdb::sql
