// status.h: Status, Result<T> and the one ErrorCode table of the server.
//
// Thread-safety: a Status or Result is a value; distinct objects may be used from distinct
// threads without synchronisation, as with any value type.
#pragma once

#include <cassert>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace kalamdb {

// Every error the server can produce has one code here. Numbers are never reused; a retired
// code stays as a gap. The mapping to HTTP statuses and KalamDB wire codes lives only in
// src/api (api/errors.cc).
enum class ErrorCode : int {
  kOk = 0,
  kInvalidArgument = 1,       // malformed client input (JSON, fields, parameters)
  kInvalidSql = 2,            // SQL that cannot be parsed or is not supported
  kNotFound = 3,              // a named object does not exist
  kAlreadyExists = 4,         // a named object exists already
  kPermissionDenied = 5,      // authenticated, but the role may not do this
  kUnauthenticated = 6,       // missing or wrong credentials
  kTokenExpired = 7,          // a JWT whose exp has passed
  kAccountLocked = 8,         // too many failed logins
  kStorageIo = 9,             // RocksDB or file-system failure
  kCorruption = 10,           // stored bytes that do not decode
  kShuttingDown = 11,         // the server is stopping
  kInternal = 12,             // a bug: an invariant did not hold
  kConfig = 13,               // invalid configuration value
  kConstraintViolation = 14,  // NOT NULL, primary key, type coercion
  kSetupRequired = 15,        // root has no password yet
  kRateLimited = 16,          // too many requests
  kEmptySql = 17,             // a request whose SQL holds no statement
  kParamsWithBatch = 18,      // parameters sent with several statements
  kInvalidOperation = 19,     // a valid statement that cannot apply (reserved name ...)
};

// Returns a stable lower-case name for `code` ("invalid_argument" ...), for logs and tests.
std::string_view ErrorCodeName(ErrorCode code);

// Status: the outcome of an operation. OK holds a null pointer, so success allocates nothing
// and costs one pointer copy; an error allocates its code and message once.
class [[nodiscard]] Status {
 public:
  Status() noexcept = default;
  Status(ErrorCode code, std::string message);
  Status(const Status& other);
  Status& operator=(const Status& other);
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;
  ~Status() = default;

  static Status OK() { return Status(); }

  bool ok() const { return state_ == nullptr; }
  ErrorCode code() const { return state_ ? state_->code : ErrorCode::kOk; }
  // The message; empty for OK. Valid while this Status lives and is not modified.
  std::string_view message() const { return state_ ? std::string_view(state_->message) : ""; }
  // "<code name>: <message>", or "ok".
  std::string ToString() const;

  // Drops the status on purpose. Callers write why in a comment next to the call.
  void IgnoreError() const {}

 private:
  struct State {
    ErrorCode code;
    std::string message;
  };
  std::unique_ptr<State> state_;
};

// Result<T>: a T or an error Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    assert(!status_.ok() && "a Result built from a Status must hold an error");
  }

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  // REQUIRES: ok().
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace kalamdb

// Returns early from the enclosing function when `expr` yields an error Status.
#define KALAMDB_RETURN_IF_ERROR(expr)          \
  do {                                         \
    ::kalamdb::Status _kalamdb_st = (expr);    \
    if (!_kalamdb_st.ok()) return _kalamdb_st; \
  } while (0)
