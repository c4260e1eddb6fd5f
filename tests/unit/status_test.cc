// MAPI SCODE <-> absl::Status mapping.
#include "mapinotify/status.h"

#include "gtest/gtest.h"

namespace mapinotify {
namespace {

TEST(Status, EachScodeMapsOntoOneCodeAndTravelsWithIt) {
  struct Case {
    SCODE scode;
    absl::StatusCode code;
  } cases[] = {
      {MAPI_E_NOT_FOUND, absl::StatusCode::kNotFound},
      {MAPI_E_INVALID_PARAMETER, absl::StatusCode::kInvalidArgument},
      {MAPI_E_INVALID_ENTRYID, absl::StatusCode::kInvalidArgument},
      {MAPI_E_COLLISION, absl::StatusCode::kAlreadyExists},
      {MAPI_E_NO_ACCESS, absl::StatusCode::kPermissionDenied},
      {MAPI_E_HAS_FOLDERS, absl::StatusCode::kFailedPrecondition},
      {MAPI_E_HAS_MESSAGES, absl::StatusCode::kFailedPrecondition},
      {MAPI_E_COMPUTED, absl::StatusCode::kFailedPrecondition},
      {MAPI_E_USER_CANCEL, absl::StatusCode::kCancelled},
      {MAPI_E_NO_SUPPORT, absl::StatusCode::kUnimplemented},
      {MAPI_E_NOT_ENOUGH_MEMORY, absl::StatusCode::kResourceExhausted},
      {MAPI_E_NETWORK_ERROR, absl::StatusCode::kUnavailable},
      {MAPI_E_TIMEOUT, absl::StatusCode::kDeadlineExceeded},
      {MAPI_E_NOTIFICATIONS_LOST, absl::StatusCode::kDataLoss},
      {MAPI_E_CALL_FAILED, absl::StatusCode::kInternal},
  };
  for (const Case& c : cases) {
    absl::Status s = MapiError(c.scode, "because");
    EXPECT_EQ(s.code(), c.code) << std::hex << c.scode;
    EXPECT_EQ(s.message(), "because");
    EXPECT_EQ(ScodeOf(s), c.scode) << std::hex << c.scode;
  }
}

TEST(Status, WarningsAndOkAreOk) {
  EXPECT_TRUE(MapiError(S_OK, "x").ok());
  EXPECT_TRUE(MapiError(MAPI_W_PARTIAL_COMPLETION, "x").ok());
  EXPECT_EQ(ScodeOf(absl::OkStatus()), S_OK);
}

TEST(Status, PlainStatusGetsTheDefaultScodeOfItsCode) {
  EXPECT_EQ(ScodeOf(absl::NotFoundError("x")), MAPI_E_NOT_FOUND);
  EXPECT_EQ(ScodeOf(absl::InvalidArgumentError("x")), MAPI_E_INVALID_PARAMETER);
  EXPECT_EQ(ScodeOf(absl::AlreadyExistsError("x")), MAPI_E_COLLISION);
  EXPECT_EQ(ScodeOf(absl::CancelledError("x")), MAPI_E_USER_CANCEL);
  EXPECT_EQ(CodeForScode(MAKE_MAPI_E(0x7777)), absl::StatusCode::kUnknown);
}

}  // namespace
}  // namespace mapinotify
