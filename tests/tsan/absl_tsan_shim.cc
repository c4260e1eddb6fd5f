// ThreadSanitizer annotations for Debian's (uninstrumented) Abseil.
//
// Debian builds libabsl_synchronization without -fsanitize=thread, so TSan
// never sees the atomics and futex calls inside absl::Mutex, absl::CondVar
// and absl::Notification, and reports a false race on every ABSL_GUARDED_BY
// field. This file, linked only into the TSan build's test executables,
// defines the out-of-line members of those classes. The executable's
// definitions interpose the shared library's ones (calls from our code bind
// to them directly; calls made inside libabsl go through its PLT and resolve
// to the executable's exported definitions too). Each one forwards to the
// real function, found with dlsym(RTLD_NEXT, <mangled name>), and tells TSan
// about the happens-before edge the real function creates:
//
//   acquire (Lock, ReaderLock, TryLock on success, LockWhen...):
//       real call, then __tsan_acquire(mu)
//   release (Unlock, ReaderUnlock):
//       __tsan_release(mu), then real call
//   wait (Await..., CondVar::Wait...):
//       __tsan_release(mu), real call, __tsan_acquire(mu)
//   Notification: Notify releases; WaitForNotification... acquire when
//       they return "notified".
//
// Conditions. absl::Mutex evaluates a waiter's Condition while it holds the
// mutex, but possibly inside the library before the annotation above has
// run, and possibly on *another* thread (the one unlocking). Every Condition
// handed to Await / LockWhen / ReaderLockWhen is therefore wrapped in one
// that does __tsan_acquire(mu), evaluates the original, __tsan_release(mu).
// The waiter also releases on the wrapper itself before the call, so the
// thread that evaluates the Condition sees whatever the waiter wrote before
// it (for instance a lambda's captures).
//
// Limitations (documented, none of them yields a false report):
// - Readers and writers share one synchronisation clock: a ReaderUnlock
//   happens-before the next ReaderLock. TSan may thus miss a write made
//   under a reader lock racing with another reader; clang's -Wthread-safety
//   rejects such writes to ABSL_GUARDED_BY fields at compile time anyway.
// - No lock-order (deadlock) detection and no "mutex held" lines in reports:
//   only happens-before is annotated, not mutex identity.
// - Notification::HasBeenNotified() is inline: it is an acquire load of the
//   Notification's atomic flag in our own (instrumented) code, so Notify()
//   also releases on that flag's address (computed from the layout, checked
//   by static_asserts below) and a HasBeenNotified() that returns true
//   synchronises with Notify().
// - The mangled names assume Abseil's inline namespace
//   (ABSL_OPTION_INLINE_NAMESPACE_NAME, "debian3" on Debian 12); they are
//   built from that macro, and a missing symbol aborts at first use with a
//   message rather than running unannotated.
// - Only absl::Mutex, CondVar and Notification: absl::base_internal::SpinLock
//   and other absl internals are not annotated (our code does not use them).

#include <dlfcn.h>
#include <sanitizer/tsan_interface.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/base/options.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

#if !defined(__SANITIZE_THREAD__) && defined(__has_feature)
#if !__has_feature(thread_sanitizer)
#error "absl_tsan_shim.cc belongs only in the -fsanitize=thread build"
#endif
#endif

static_assert(ABSL_OPTION_USE_INLINE_NAMESPACE == 1,
              "the shim's mangled names assume Abseil's inline namespace");

namespace {

#define MAPINOTIFY_SHIM_STR2(x) #x
#define MAPINOTIFY_SHIM_STR(x) MAPINOTIFY_SHIM_STR2(x)

// "_ZN4absl" + <len><inline namespace> + suffix, e.g. suffix
// "5Mutex4LockEv" gives "_ZN4absl7debian35Mutex4LockEv". `is_const` selects
// the "_ZNK" prefix of const member functions. The suffixes only use
// substitutions (S0_, S1_ ...), which do not depend on the namespace name.
std::string Mangle(bool is_const, const char* suffix) {
  const std::string ns = MAPINOTIFY_SHIM_STR(ABSL_OPTION_INLINE_NAMESPACE_NAME);
  return std::string(is_const ? "_ZNK4absl" : "_ZN4absl") +
         std::to_string(ns.size()) + ns + suffix;
}

// The real definition that follows ours in symbol lookup order. Aborts with
// a message if there is none: running unannotated would only produce
// misleading race reports.
template <typename Fn>
Fn Real(bool is_const, const char* suffix) {
  const std::string name = Mangle(is_const, suffix);
  void* sym = dlsym(RTLD_NEXT, name.c_str());
  if (sym == nullptr) {
    const char* err = dlerror();
    std::fprintf(stderr, "absl_tsan_shim: cannot resolve %s: %s\n",
                 name.c_str(), err != nullptr ? err : "not found");
    std::abort();
  }
  return reinterpret_cast<Fn>(sym);
}

// REAL(type, is_const, suffix): the real function, resolved once, lazily
// and thread-safely (a function-local static; TSan understands its guard).
#define REAL(type, is_const, suffix)                         \
  ([]() -> type {                                            \
    static const type fn = Real<type>((is_const), (suffix)); \
    return fn;                                               \
  }())

void Acquire(const void* addr) { __tsan_acquire(const_cast<void*>(addr)); }
void Release(const void* addr) { __tsan_release(const_cast<void*>(addr)); }

// A Condition that annotates the evaluation of `cond` under `mu`, which the
// evaluating thread holds (see the file comment).
struct WrappedCondition {
  WrappedCondition(const absl::Condition* cond, const absl::Mutex* mu)
      : cond(cond), mu(mu) {
    // Publish this object (and whatever the caller wrote before, e.g. the
    // state behind `cond`) to the thread that will evaluate it.
    Release(this);
  }
  static bool Eval(void* arg) {
    Acquire(arg);  // before reading *arg
    const auto* self = static_cast<const WrappedCondition*>(arg);
    Acquire(self->mu);
    const bool result = self->cond->Eval();
    // The evaluating thread may be the one unlocking `mu`: its reads here
    // must happen-before the next holder's writes.
    Release(self->mu);
    return result;
  }
  absl::Condition AsCondition() {
    return absl::Condition(&WrappedCondition::Eval, static_cast<void*>(this));
  }

  const absl::Condition* const cond;
  const absl::Mutex* const mu;
};

// Notification::HasBeenNotified() is an inline acquire load of
// `notified_yet_`, the std::atomic<bool> that follows the Mutex `mutex_`
// (absl/synchronization/notification.h, 20220623). Check that layout.
static_assert(sizeof(absl::Mutex) == sizeof(intptr_t) &&
                  alignof(absl::Notification) == alignof(intptr_t) &&
                  sizeof(absl::Notification) == 2 * sizeof(intptr_t),
              "unexpected absl::Notification layout");
const void* NotifiedFlag(const absl::Notification* n) {
  return reinterpret_cast<const char*>(n) + sizeof(absl::Mutex);
}

}  // namespace

namespace absl {
ABSL_NAMESPACE_BEGIN

// ---------------------------------------------------------------- Mutex

Mutex::~Mutex() {
  using Fn = void (*)(Mutex*);
  // Forget the synchronisation state at this address, so that a later
  // object at the same (stack) address does not inherit happens-before
  // edges. Same call as an instrumented Abseil makes.
  __tsan_mutex_destroy(this, __tsan_mutex_not_static);
  REAL(Fn, false, "5MutexD1Ev")(this);
}

void Mutex::Lock() {
  using Fn = void (*)(Mutex*);
  REAL(Fn, false, "5Mutex4LockEv")(this);
  Acquire(this);
}

void Mutex::ReaderLock() {
  using Fn = void (*)(Mutex*);
  REAL(Fn, false, "5Mutex10ReaderLockEv")(this);
  Acquire(this);
}

bool Mutex::TryLock() {
  using Fn = bool (*)(Mutex*);
  const bool locked = REAL(Fn, false, "5Mutex7TryLockEv")(this);
  if (locked) Acquire(this);
  return locked;
}

bool Mutex::ReaderTryLock() {
  using Fn = bool (*)(Mutex*);
  const bool locked = REAL(Fn, false, "5Mutex13ReaderTryLockEv")(this);
  if (locked) Acquire(this);
  return locked;
}

void Mutex::Unlock() {
  using Fn = void (*)(Mutex*);
  Release(this);
  REAL(Fn, false, "5Mutex6UnlockEv")(this);
}

void Mutex::ReaderUnlock() {
  using Fn = void (*)(Mutex*);
  Release(this);
  REAL(Fn, false, "5Mutex12ReaderUnlockEv")(this);
}

void Mutex::Await(const Condition& cond) {
  using Fn = void (*)(Mutex*, const Condition&);
  WrappedCondition wrapped(&cond, this);
  Release(this);
  REAL(Fn, false, "5Mutex5AwaitERKNS0_9ConditionE")
  (this, wrapped.AsCondition());
  Acquire(this);
}

bool Mutex::AwaitWithTimeout(const Condition& cond, absl::Duration timeout) {
  using Fn = bool (*)(Mutex*, const Condition&, absl::Duration);
  WrappedCondition wrapped(&cond, this);
  Release(this);
  const bool result = REAL(
      Fn, false, "5Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE")(
      this, wrapped.AsCondition(), timeout);
  Acquire(this);
  return result;
}

bool Mutex::AwaitWithDeadline(const Condition& cond, absl::Time deadline) {
  using Fn = bool (*)(Mutex*, const Condition&, absl::Time);
  WrappedCondition wrapped(&cond, this);
  Release(this);
  const bool result =
      REAL(Fn, false, "5Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE")(
          this, wrapped.AsCondition(), deadline);
  Acquire(this);
  return result;
}

void Mutex::LockWhen(const Condition& cond) {
  using Fn = void (*)(Mutex*, const Condition&);
  WrappedCondition wrapped(&cond, this);
  REAL(Fn, false, "5Mutex8LockWhenERKNS0_9ConditionE")
  (this, wrapped.AsCondition());
  Acquire(this);
}

void Mutex::ReaderLockWhen(const Condition& cond) {
  using Fn = void (*)(Mutex*, const Condition&);
  WrappedCondition wrapped(&cond, this);
  REAL(Fn, false, "5Mutex14ReaderLockWhenERKNS0_9ConditionE")
  (this, wrapped.AsCondition());
  Acquire(this);
}

// The ...WithTimeout / ...WithDeadline variants hold the mutex on return
// whatever they return (the result is the condition's value).
bool Mutex::LockWhenWithTimeout(const Condition& cond, absl::Duration timeout) {
  using Fn = bool (*)(Mutex*, const Condition&, absl::Duration);
  WrappedCondition wrapped(&cond, this);
  const bool result = REAL(
      Fn, false, "5Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE")(
      this, wrapped.AsCondition(), timeout);
  Acquire(this);
  return result;
}

bool Mutex::LockWhenWithDeadline(const Condition& cond, absl::Time deadline) {
  using Fn = bool (*)(Mutex*, const Condition&, absl::Time);
  WrappedCondition wrapped(&cond, this);
  const bool result = REAL(
      Fn, false, "5Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE")(
      this, wrapped.AsCondition(), deadline);
  Acquire(this);
  return result;
}

bool Mutex::ReaderLockWhenWithTimeout(const Condition& cond,
                                      absl::Duration timeout) {
  using Fn = bool (*)(Mutex*, const Condition&, absl::Duration);
  WrappedCondition wrapped(&cond, this);
  const bool result =
      REAL(Fn, false,
           "5Mutex25ReaderLockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE")(
          this, wrapped.AsCondition(), timeout);
  Acquire(this);
  return result;
}

bool Mutex::ReaderLockWhenWithDeadline(const Condition& cond,
                                       absl::Time deadline) {
  using Fn = bool (*)(Mutex*, const Condition&, absl::Time);
  WrappedCondition wrapped(&cond, this);
  const bool result =
      REAL(Fn, false,
           "5Mutex26ReaderLockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE")(
          this, wrapped.AsCondition(), deadline);
  Acquire(this);
  return result;
}

// ---------------------------------------------------------------- CondVar
// Wait releases `mu` and re-acquires it. Signal also releases on the CondVar
// itself, for the (rare) code that signals without holding the mutex.

void CondVar::Wait(Mutex* mu) {
  using Fn = void (*)(CondVar*, Mutex*);
  Release(mu);
  REAL(Fn, false, "7CondVar4WaitEPNS0_5MutexE")(this, mu);
  Acquire(this);
  Acquire(mu);
}

bool CondVar::WaitWithTimeout(Mutex* mu, absl::Duration timeout) {
  using Fn = bool (*)(CondVar*, Mutex*, absl::Duration);
  Release(mu);
  const bool timed_out =
      REAL(Fn, false, "7CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE")(
          this, mu, timeout);
  if (!timed_out) Acquire(this);
  Acquire(mu);
  return timed_out;
}

bool CondVar::WaitWithDeadline(Mutex* mu, absl::Time deadline) {
  using Fn = bool (*)(CondVar*, Mutex*, absl::Time);
  Release(mu);
  const bool timed_out =
      REAL(Fn, false, "7CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE")(
          this, mu, deadline);
  if (!timed_out) Acquire(this);
  Acquire(mu);
  return timed_out;
}

void CondVar::Signal() {
  using Fn = void (*)(CondVar*);
  Release(this);
  REAL(Fn, false, "7CondVar6SignalEv")(this);
}

void CondVar::SignalAll() {
  using Fn = void (*)(CondVar*);
  Release(this);
  REAL(Fn, false, "7CondVar9SignalAllEv")(this);
}

// ---------------------------------------------------------------- Notification

void Notification::Notify() {
  using Fn = void (*)(Notification*);
  Release(this);
  Release(NotifiedFlag(this));  // for the inline HasBeenNotified()
  REAL(Fn, false, "12Notification6NotifyEv")(this);
}

void Notification::WaitForNotification() const {
  using Fn = void (*)(const Notification*);
  REAL(Fn, true, "12Notification19WaitForNotificationEv")(this);
  Acquire(this);
}

bool Notification::WaitForNotificationWithTimeout(
    absl::Duration timeout) const {
  using Fn = bool (*)(const Notification*, absl::Duration);
  const bool notified =
      REAL(Fn, true,
           "12Notification30WaitForNotificationWithTimeoutENS0_8DurationE")(
          this, timeout);
  if (notified) Acquire(this);
  return notified;
}

bool Notification::WaitForNotificationWithDeadline(absl::Time deadline) const {
  using Fn = bool (*)(const Notification*, absl::Time);
  const bool notified = REAL(
      Fn, true, "12Notification31WaitForNotificationWithDeadlineENS0_4TimeE")(
      this, deadline);
  if (notified) Acquire(this);
  return notified;
}

ABSL_NAMESPACE_END
}  // namespace absl
