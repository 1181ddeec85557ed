#include "common/status.h"

#include <gtest/gtest.h>

namespace kalamdb {
namespace {

TEST(StatusTest, OkIsCheapAndEmpty) {
  Status st;
  EXPECT_TRUE(st.ok());
  EXPECT_EQ(st.code(), ErrorCode::kOk);
  EXPECT_EQ(st.message(), "");
  EXPECT_EQ(st.ToString(), "ok");
  EXPECT_EQ(sizeof(Status), sizeof(void*));
}

TEST(StatusTest, ErrorCarriesCodeAndMessageAndCopies) {
  Status st(ErrorCode::kNotFound, "table x");
  Status copy = st;
  EXPECT_FALSE(copy.ok());
  EXPECT_EQ(copy.code(), ErrorCode::kNotFound);
  EXPECT_EQ(copy.ToString(), "not_found: table x");
  Status moved = std::move(copy);
  EXPECT_EQ(moved.message(), "table x");
}

Status FailsWhenNegative(int v) {
  if (v < 0) return Status(ErrorCode::kInvalidArgument, "negative");
  return Status::OK();
}

Status Chain(int v) {
  KALAMDB_RETURN_IF_ERROR(FailsWhenNegative(v));
  return Status(ErrorCode::kInternal, "reached");
}

TEST(StatusTest, ReturnIfErrorStopsEarly) {
  EXPECT_EQ(Chain(-1).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(Chain(1).code(), ErrorCode::kInternal);
}

TEST(ResultTest, HoldsValueOrError) {
  Result<int> good = 5;
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 5);
  Result<std::string> bad = Status(ErrorCode::kConfig, "x");
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), ErrorCode::kConfig);
}

}  // namespace
}  // namespace kalamdb
