// The small status macros Debian's Abseil 20220623 lacks. Internal.
#ifndef MAPINOTIFY_COMMON_INTERNAL_STATUS_MACROS_H_
#define MAPINOTIFY_COMMON_INTERNAL_STATUS_MACROS_H_

#include <utility>

#include "absl/base/optimization.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Returns `expr`'s status from the enclosing function when it is not OK.
#define MAPINOTIFY_RETURN_IF_ERROR(expr)                \
  do {                                                  \
    const ::absl::Status _mapinotify_status = (expr);   \
    if (ABSL_PREDICT_FALSE(!_mapinotify_status.ok())) { \
      return _mapinotify_status;                        \
    }                                                   \
  } while (false)

#define MAPINOTIFY_STATUS_CONCAT_INNER(a, b) a##b
#define MAPINOTIFY_STATUS_CONCAT(a, b) MAPINOTIFY_STATUS_CONCAT_INNER(a, b)

// `lhs = std::move(*expr)` when `expr` (a StatusOr) is OK; otherwise returns
// its status from the enclosing function.
#define MAPINOTIFY_ASSIGN_OR_RETURN(lhs, expr) \
  MAPINOTIFY_ASSIGN_OR_RETURN_IMPL(            \
      MAPINOTIFY_STATUS_CONCAT(_mapinotify_statusor, __LINE__), lhs, expr)
#define MAPINOTIFY_ASSIGN_OR_RETURN_IMPL(statusor, lhs, expr) \
  auto statusor = (expr);                                     \
  if (ABSL_PREDICT_FALSE(!statusor.ok())) {                   \
    return statusor.status();                                 \
  }                                                           \
  lhs = std::move(*statusor)

#endif  // MAPINOTIFY_COMMON_INTERNAL_STATUS_MACROS_H_
