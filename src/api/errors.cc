#include "api/errors.h"

namespace kalamdb::api {

WireError SqlWireError(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidSql:
      return {400, "INVALID_SQL"};
    case ErrorCode::kInvalidArgument:
      return {400, "INVALID_INPUT"};
    case ErrorCode::kPermissionDenied:
      return {403, "PERMISSION_DENIED"};
    case ErrorCode::kRateLimited:
      return {429, "RATE_LIMIT_EXCEEDED"};
    case ErrorCode::kEmptySql:
      return {400, "EMPTY_SQL"};
    case ErrorCode::kParamsWithBatch:
      return {400, "PARAMS_WITH_BATCH"};
    case ErrorCode::kNotFound:
    case ErrorCode::kAlreadyExists:
    case ErrorCode::kInvalidOperation:
    case ErrorCode::kConstraintViolation:
      return {400, "SQL_EXECUTION_ERROR"};
    case ErrorCode::kShuttingDown:
      return {503, "SERVICE_UNAVAILABLE"};
    case ErrorCode::kUnauthenticated:
    case ErrorCode::kTokenExpired:
    case ErrorCode::kAccountLocked:
      return AuthWireError(code);
    case ErrorCode::kOk:
    case ErrorCode::kStorageIo:
    case ErrorCode::kCorruption:
    case ErrorCode::kInternal:
    case ErrorCode::kConfig:
    case ErrorCode::kSetupRequired:
      break;
  }
  return {500, "INTERNAL_ERROR"};
}

WireError AuthWireError(ErrorCode code) {
  switch (code) {
    case ErrorCode::kTokenExpired:
      return {401, "TOKEN_EXPIRED"};
    case ErrorCode::kAccountLocked:
      return {401, "ACCOUNT_LOCKED"};
    case ErrorCode::kPermissionDenied:
      return {403, "INSUFFICIENT_PERMISSIONS"};
    case ErrorCode::kStorageIo:
    case ErrorCode::kCorruption:
    case ErrorCode::kInternal:
      return {500, "AUTHENTICATION_ERROR"};
    default:
      return {401, "INVALID_CREDENTIALS"};
  }
}

}  // namespace kalamdb::api
