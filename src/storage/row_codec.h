// row_codec.h: the on-disk value of a table row in the `rows` family.
//
// A row is stored as: a version byte, `_seq`, a flags byte (deleted), the number of columns it
// was written with, a null bitmap, then each non-null column in schema order, fixed-width
// values inline and variable-width values length-prefixed. Column names and types are never
// stored: the reader brings the table's schema. The byte grammar is at the top of
// row_codec.cc and in docs/storage.md.
//
// Schema evolution: a row decodes against any schema that starts with the columns it was
// written with (ADD COLUMN appends; the added columns read as NULL). A DROP COLUMN must keep
// the dropped column's slot (and type) in the schema passed here.
//
// Thread-safety: every function is pure; call from any thread.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/value.h"

namespace kalamdb::storage {

// The version byte EncodeRow writes (the first byte of every row).
inline constexpr uint8_t kRowFormatVersion = 1;

// A decoded row. Caller-owned and meant to be reused: DecodeRow resizes `values` to the schema
// only when its size differs, so decoding rows of one table into one RowView allocates nothing
// after the first row.
struct RowView {
  int64_t seq = 0;       // the row's _seq
  bool deleted = false;  // soft-deleted (a tombstone that keeps the row's columns)
  // One Value per schema column, in schema order. Text, Json, Bytes and Uuid values borrow from
  // the bytes given to DecodeRow: valid while those bytes are.
  std::vector<Value> values;
};

// Appends the encoding of one row to `*out` (the caller reuses `out`, so the steady state makes
// no allocation). Borrows `schema` and `values` for the duration of the call only.
// REQUIRES: values.size() == schema.size(); each non-null value has its column's DataType
// (coerced before this call; the decimal scale is the column's).
// Errors: kInvalidArgument (size mismatch, a value of another type, a SmallInt or Int out of
// range, a Uuid that is not 16 bytes); `*out` is then unchanged.
[[nodiscard]] Status EncodeRow(std::span<const ColumnType> schema, std::span<const Value> values,
                               int64_t seq, bool deleted, std::string* out);

// Decodes `bytes` (one whole row value) against `schema` into `*out`. Columns the row was
// written without (added to the schema later) come back as NULL of their type.
// Errors: kCorruption (unknown version, truncated, reserved flag bits or bitmap padding set,
// more columns than `schema`, a boolean byte other than 0/1, trailing bytes); `*out` is then
// unspecified.
[[nodiscard]] Status DecodeRow(std::string_view bytes, std::span<const ColumnType> schema,
                               RowView* out);

// Read only the header of an encoded row (for version resolution and COUNT(*) without decoding
// columns). Errors: kCorruption (unknown version, shorter than the header, reserved flags set).
Result<int64_t> PeekSeq(std::string_view bytes);
Result<bool> PeekDeleted(std::string_view bytes);

// Rewrites `_seq` and the deleted flag of an encoded row in place, leaving its columns as they
// are: a soft DELETE re-stamps the stored bytes instead of decoding and re-encoding them.
// Errors: kCorruption as for PeekSeq; `*row` is then unchanged.
[[nodiscard]] Status RestampRow(std::string* row, int64_t seq, bool deleted);

}  // namespace kalamdb::storage
