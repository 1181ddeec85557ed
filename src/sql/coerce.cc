#include "sql/coerce.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "common/strings.h"

namespace kalamdb::sql {
namespace {

Status CastError(const Constant& c, const ColumnType& type, std::string_view why = {}) {
  std::string message =
      "cannot cast " + ConstantText(c) + " to " + std::string(DataTypeName(type.type));
  if (!why.empty()) message.append(" (").append(why).append(")");
  return Status(ErrorCode::kConstraintViolation, std::move(message));
}

bool ParseInt64(std::string_view text, int64_t* out) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty();
}

bool ParseDouble(std::string_view text, double* out) {
  std::string copy(TrimSpaces(text));
  if (copy.empty()) return false;
  char* end = nullptr;
  *out = std::strtod(copy.c_str(), &end);
  return end == copy.c_str() + copy.size() && std::isfinite(*out);
}

// Reads `digits` fixed-width decimal digits at `*pos`.
bool Digits(std::string_view s, size_t* pos, int digits, int* out) {
  if (*pos + digits > s.size()) return false;
  int v = 0;
  for (int i = 0; i < digits; ++i) {
    char c = s[*pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *pos += digits;
  *out = v;
  return true;
}

// "HH:MM[:SS[.ffffff]]" at *pos -> microseconds since midnight.
bool ParseClock(std::string_view s, size_t* pos, int64_t* micros) {
  int h = 0, m = 0, sec = 0;
  if (!Digits(s, pos, 2, &h) || *pos >= s.size() || s[*pos] != ':') return false;
  ++*pos;
  if (!Digits(s, pos, 2, &m)) return false;
  int64_t fraction = 0;
  if (*pos < s.size() && s[*pos] == ':') {
    ++*pos;
    if (!Digits(s, pos, 2, &sec)) return false;
    if (*pos < s.size() && s[*pos] == '.') {
      ++*pos;
      int scale = 100000, count = 0;
      while (*pos < s.size() && std::isdigit(static_cast<unsigned char>(s[*pos]))) {
        if (count < 6) fraction += (s[*pos] - '0') * scale;
        scale /= 10;
        ++count;
        ++*pos;
      }
      if (count == 0) return false;
    }
  }
  if (h > 23 || m > 59 || sec > 59) return false;
  *micros = ((h * 60LL + m) * 60 + sec) * 1000000 + fraction;
  return true;
}

// "YYYY-MM-DD" at *pos -> days since the epoch.
bool ParseDate(std::string_view s, size_t* pos, int64_t* days) {
  int y = 0, mo = 0, d = 0;
  if (!Digits(s, pos, 4, &y) || *pos >= s.size() || s[*pos] != '-') return false;
  ++*pos;
  if (!Digits(s, pos, 2, &mo) || *pos >= s.size() || s[*pos] != '-') return false;
  ++*pos;
  if (!Digits(s, pos, 2, &d)) return false;
  static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (mo < 1 || mo > 12 || d < 1 || d > kDays[mo - 1]) return false;
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (mo == 2 && d == 29 && !leap) return false;
  *days = DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  return true;
}

// ISO-8601 "YYYY-MM-DD[( |T)HH:MM[:SS[.f]]][Z|(+|-)HH[:MM]]" -> Unix microseconds (UTC).
bool ParseTimestamp(std::string_view s, int64_t* micros) {
  s = TrimSpaces(s);
  size_t pos = 0;
  int64_t days = 0, clock = 0;
  if (!ParseDate(s, &pos, &days)) return false;
  if (pos < s.size() && (s[pos] == 'T' || s[pos] == 't' || s[pos] == ' ')) {
    ++pos;
    if (!ParseClock(s, &pos, &clock)) return false;
  }
  int64_t offset_minutes = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int sign = s[pos] == '-' ? -1 : 1;
    ++pos;
    int oh = 0, om = 0;
    if (!Digits(s, &pos, 2, &oh)) return false;
    if (pos < s.size() && s[pos] == ':') ++pos;
    if (pos < s.size() && !Digits(s, &pos, 2, &om)) return false;
    offset_minutes = sign * (oh * 60 + om);
  }
  if (pos != s.size()) return false;
  *micros = days * 86400000000LL + clock - offset_minutes * 60000000LL;
  return true;
}

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decimal text -> int128 scaled by `scale`; rounds half away from zero beyond the scale.
bool ParseDecimal(std::string_view text, const ColumnType& type, int128_t* out) {
  text = TrimSpaces(text);
  bool negative = false;
  if (!text.empty() && (text.front() == '-' || text.front() == '+')) {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  size_t dot = text.find('.');
  std::string_view whole = text.substr(0, dot);
  std::string_view fraction =
      dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
  if (whole.empty() && fraction.empty()) return false;
  int128_t value = 0;
  int digits = 0;
  for (char c : whole) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    value = value * 10 + (c - '0');
    if (value != 0) ++digits;
    if (digits > 38) return false;
  }
  for (int i = 0; i < type.scale; ++i) {
    char c = i < static_cast<int>(fraction.size()) ? fraction[i] : '0';
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    value = value * 10 + (c - '0');
  }
  for (size_t i = type.scale; i < fraction.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(fraction[i]))) return false;
  }
  if (fraction.size() > type.scale && fraction[type.scale] >= '5') value += 1;
  int128_t limit = 1;
  for (int i = 0; i < type.precision; ++i) limit *= 10;
  if (value >= limit) return false;
  *out = negative ? -value : value;
  return true;
}

}  // namespace

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

std::string ConstantText(const Constant& c) {
  switch (c.kind) {
    case Constant::Kind::kNull:
      return "NULL";
    case Constant::Kind::kBoolean:
      return c.boolean ? "true" : "false";
    case Constant::Kind::kString:
      return "'" + std::string(c.text) + "'";
    default:
      return std::string(c.text);
  }
}

Result<Value> Coerce(const Constant& c, const ColumnType& type, Arena& arena) {
  const DataType t = type.type;
  if (c.kind == Constant::Kind::kNull) return Value::Null(t);
  const bool numeric = c.kind == Constant::Kind::kInteger || c.kind == Constant::Kind::kDecimal;
  switch (t) {
    case DataType::kBoolean: {
      if (c.kind == Constant::Kind::kBoolean) return Value::Bool(c.boolean);
      std::string_view s = TrimSpaces(c.text);
      if (EqualsIgnoreCase(s, "true") || EqualsIgnoreCase(s, "t") || s == "1")
        return Value::Bool(true);
      if (EqualsIgnoreCase(s, "false") || EqualsIgnoreCase(s, "f") || s == "0")
        return Value::Bool(false);
      return CastError(c, type);
    }
    case DataType::kSmallInt:
    case DataType::kInt:
    case DataType::kBigInt: {
      if (c.kind == Constant::Kind::kBoolean) return CastError(c, type);
      int64_t v = 0;
      if (!ParseInt64(TrimSpaces(c.text), &v)) return CastError(c, type, "not an integer");
      if (t == DataType::kSmallInt && (v < INT16_MIN || v > INT16_MAX))
        return CastError(c, type, "out of range");
      if (t == DataType::kInt && (v < INT32_MIN || v > INT32_MAX))
        return CastError(c, type, "out of range");
      return Value::Int(t, v);
    }
    case DataType::kFloat:
    case DataType::kDouble: {
      double v = 0;
      if (c.kind == Constant::Kind::kBoolean || !ParseDouble(c.text, &v))
        return CastError(c, type, "not a number");
      if (t == DataType::kFloat && std::fabs(v) > 3.4028234663852886e38)
        return CastError(c, type, "out of range");
      return Value::Double(t, v);
    }
    case DataType::kDecimal: {
      int128_t v = 0;
      if (c.kind == Constant::Kind::kBoolean || !ParseDecimal(c.text, type, &v)) {
        return CastError(c, type,
                         "not a number within DECIMAL(" + std::to_string(type.precision) + "," +
                             std::to_string(type.scale) + ")");
      }
      return Value::Decimal(v);
    }
    case DataType::kText:
    case DataType::kJson:
    case DataType::kBytes: {
      if (c.kind == Constant::Kind::kBoolean) return Value::Bytes(t, c.boolean ? "true" : "false");
      if (type.max_length > 0 && c.text.size() > type.max_length) {
        return CastError(c, type, "longer than " + std::to_string(type.max_length) + " characters");
      }
      return Value::Bytes(t, c.text);
    }
    case DataType::kTimestamp:
    case DataType::kDateTime: {
      int64_t v = 0;
      if (numeric && ParseInt64(c.text, &v)) return Value::Int(t, v);  // raw microseconds
      if (c.kind == Constant::Kind::kString && ParseTimestamp(c.text, &v)) return Value::Int(t, v);
      return CastError(c, type, "expected microseconds or an ISO-8601 timestamp");
    }
    case DataType::kDate: {
      int64_t v = 0;
      if (numeric && ParseInt64(c.text, &v)) return Value::Int(t, v);
      size_t pos = 0;
      std::string_view s = TrimSpaces(c.text);
      if (c.kind == Constant::Kind::kString && ParseDate(s, &pos, &v) && pos == s.size())
        return Value::Int(t, v);
      return CastError(c, type, "expected YYYY-MM-DD");
    }
    case DataType::kTime: {
      int64_t v = 0;
      if (numeric && ParseInt64(c.text, &v) && v >= 0 && v < 86400000000LL) return Value::Int(t, v);
      size_t pos = 0;
      std::string_view s = TrimSpaces(c.text);
      if (c.kind == Constant::Kind::kString && ParseClock(s, &pos, &v) && pos == s.size())
        return Value::Int(t, v);
      return CastError(c, type, "expected HH:MM:SS");
    }
    case DataType::kUuid: {
      std::string_view s = TrimSpaces(c.text);
      if (c.kind != Constant::Kind::kString || s.size() != 36)
        return CastError(c, type, "not a UUID");
      char* bytes = static_cast<char*>(arena.Allocate(16, 1));
      int n = 0;
      for (size_t i = 0; i < s.size(); ++i) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
          if (s[i] != '-') return CastError(c, type, "not a UUID");
          continue;
        }
        int hi = Hex(s[i]), lo = i + 1 < s.size() ? Hex(s[i + 1]) : -1;
        if (hi < 0 || lo < 0) return CastError(c, type, "not a UUID");
        bytes[n++] = static_cast<char>(hi * 16 + lo);
        ++i;
      }
      return Value::Bytes(t, std::string_view(bytes, 16));
    }
  }
  return CastError(c, type);
}

}  // namespace kalamdb::sql
