#include "api/errors.h"

#include <gtest/gtest.h>

namespace kalamdb::api {
namespace {

TEST(ErrorsTest, SqlErrorsMapToReferenceCodes) {
  EXPECT_EQ(SqlWireError(ErrorCode::kInvalidSql).http_status, 400);
  EXPECT_EQ(SqlWireError(ErrorCode::kInvalidSql).code, "INVALID_SQL");
  EXPECT_EQ(SqlWireError(ErrorCode::kPermissionDenied).http_status, 403);
  EXPECT_EQ(SqlWireError(ErrorCode::kAlreadyExists).code, "SQL_EXECUTION_ERROR");
  EXPECT_EQ(SqlWireError(ErrorCode::kInvalidOperation).code, "SQL_EXECUTION_ERROR");
  EXPECT_EQ(SqlWireError(ErrorCode::kEmptySql).code, "EMPTY_SQL");
  EXPECT_EQ(SqlWireError(ErrorCode::kParamsWithBatch).code, "PARAMS_WITH_BATCH");
  EXPECT_EQ(SqlWireError(ErrorCode::kStorageIo).http_status, 500);
  EXPECT_EQ(SqlWireError(ErrorCode::kStorageIo).code, "INTERNAL_ERROR");
}

TEST(ErrorsTest, AuthErrorsMapToReferenceCodes) {
  EXPECT_EQ(AuthWireError(ErrorCode::kUnauthenticated).code, "INVALID_CREDENTIALS");
  EXPECT_EQ(AuthWireError(ErrorCode::kTokenExpired).code, "TOKEN_EXPIRED");
  EXPECT_EQ(AuthWireError(ErrorCode::kAccountLocked).code, "ACCOUNT_LOCKED");
  EXPECT_EQ(AuthWireError(ErrorCode::kStorageIo).http_status, 500);
}

}  // namespace
}  // namespace kalamdb::api
