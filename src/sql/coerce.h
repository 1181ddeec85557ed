// coerce.h (internal to src/sql): turns a constant of a statement (a literal, a parameter or a
// column default) into a Value of a column's type, or says why it cannot.
#pragma once

#include <string>
#include <string_view>

#include "common/arena.h"
#include "common/status.h"
#include "common/value.h"

namespace kalamdb::sql {

// A constant as written: the kind decides how `text` is read.
struct Constant {
  enum class Kind : uint8_t { kNull, kInteger, kDecimal, kString, kBoolean };
  Kind kind = Kind::kNull;
  std::string_view text;  // digits (with an optional leading '-') or the string's value
  bool boolean = false;
};

// Converts `constant` to `type`. Bytes the Value needs beyond `constant.text` (a UUID's 16
// bytes) are allocated in `arena`; text values borrow `constant.text`.
// Errors: kConstraintViolation with a reason ("out of range for Int", "not a valid UUID" ...).
Result<Value> Coerce(const Constant& constant, const ColumnType& type, Arena& arena);

// The constant's text as a user would read it in an error message.
std::string ConstantText(const Constant& constant);

// Civil date <-> days since 1970-01-01 (proleptic Gregorian).
int64_t DaysFromCivil(int64_t year, unsigned month, unsigned day);

}  // namespace kalamdb::sql
