// errors.h (internal to src/api): ErrorCode -> HTTP status and KalamDB wire code.
#pragma once

#include <string_view>

#include "common/status.h"

namespace kalamdb::api {

struct WireError {
  int http_status;
  std::string_view code;  // e.g. "SQL_EXECUTION_ERROR"
};

// For errors of POST /v1/api/sql after authentication.
WireError SqlWireError(ErrorCode code);
// For authentication failures on Bearer/Basic-protected routes.
WireError AuthWireError(ErrorCode code);

}  // namespace kalamdb::api
