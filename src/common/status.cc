#include "common/status.h"

namespace kalamdb {

std::string_view ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk:
      return "ok";
    case ErrorCode::kInvalidArgument:
      return "invalid_argument";
    case ErrorCode::kInvalidSql:
      return "invalid_sql";
    case ErrorCode::kNotFound:
      return "not_found";
    case ErrorCode::kAlreadyExists:
      return "already_exists";
    case ErrorCode::kPermissionDenied:
      return "permission_denied";
    case ErrorCode::kUnauthenticated:
      return "unauthenticated";
    case ErrorCode::kTokenExpired:
      return "token_expired";
    case ErrorCode::kAccountLocked:
      return "account_locked";
    case ErrorCode::kStorageIo:
      return "storage_io";
    case ErrorCode::kCorruption:
      return "corruption";
    case ErrorCode::kShuttingDown:
      return "shutting_down";
    case ErrorCode::kInternal:
      return "internal";
    case ErrorCode::kConfig:
      return "config";
    case ErrorCode::kConstraintViolation:
      return "constraint_violation";
    case ErrorCode::kSetupRequired:
      return "setup_required";
    case ErrorCode::kRateLimited:
      return "rate_limited";
    case ErrorCode::kEmptySql:
      return "empty_sql";
    case ErrorCode::kParamsWithBatch:
      return "params_with_batch";
    case ErrorCode::kInvalidOperation:
      return "invalid_operation";
  }
  return "unknown";
}

Status::Status(ErrorCode code, std::string message)
    : state_(code == ErrorCode::kOk ? nullptr : new State{code, std::move(message)}) {}

Status::Status(const Status& other) : state_(other.state_ ? new State(*other.state_) : nullptr) {}

Status& Status::operator=(const Status& other) {
  if (this != &other) state_.reset(other.state_ ? new State(*other.state_) : nullptr);
  return *this;
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  std::string out(ErrorCodeName(state_->code));
  out += ": ";
  out += state_->message;
  return out;
}

}  // namespace kalamdb
