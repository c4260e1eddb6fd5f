// The server process of the process-level fault tests (issue 6): the test
// executable re-runs itself (bench/proc.h's Child) with `--fault_role=server`
// and this role serves an in-process mapinotifyd (server::Server) on
// 127.0.0.1, publishing on command, until its stdin closes or it is killed.
//
// Arguments (key=value): --port=<p> (0: a free one), --retention_events=<n>,
// --retention_bytes=<n>, --outbox_items=<n>, --outbox_bytes=<n>.
// Prints "ready port=<p> epoch=<e>" and then answers one line per command:
//   publish count=<n> rate=<per second, 0 = unpaced>
//     n ObjectModified notifications on folder "fault" (one operation each),
//     store-wide registrations see them all;
//     answers "published first=<sequence> last=<sequence> seconds=<s>".
//   rss
//     answers "rss kib=<VmRSS> hwm_kib=<VmHWM> retained=<events>
//     retained_bytes=<bytes> catch_up_resyncs=<n> resume_resyncs=<n>" (the
//     hub's own count of the resyncs it sent, to justify the clients').
#ifndef MAPINOTIFY_TESTS_INTEGRATION_FAULT_SERVER_ROLE_H_
#define MAPINOTIFY_TESTS_INTEGRATION_FAULT_SERVER_ROLE_H_

namespace mapinotify::testing {

// If argv names a role, runs it and returns true with its exit code in
// `*exit_code`; otherwise returns false (run the tests).
bool MaybeRunFaultRole(int argc, char** argv, int* exit_code);

}  // namespace mapinotify::testing

#endif  // MAPINOTIFY_TESTS_INTEGRATION_FAULT_SERVER_ROLE_H_
