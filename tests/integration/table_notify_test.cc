// Table notifications over the wire: Session::Advise on
// AdviseTarget::TableView(view) with fnevTableModified delivers the view's
// row events (TABLE_ROW_ADDED / MODIFIED / DELETED with the row in the
// view's columns and `prior` in the view's order), TABLE_CHANGED for big
// operations, the TBL_ASYNC completions and TABLE_ERROR; the events of one
// operation come in one OnNotify call.
#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "mapinotify/session.h"
#include "mapinotify/status.h"
#include "mapinotify/store.h"
#include "mapinotify/table.h"
#include "tests/integration/store_test_util.h"
#include "tests/integration/table_test_util.h"

namespace mapinotify::testing {
namespace {

absl::Status SetSubject(MsgStore& store, const EntryId& id,
                        const std::string& subject) {
  auto m = store.OpenMessage(id, MAPI_MODIFY);
  if (!m.ok()) return m.status();
  auto problems = (*m)->SetProps({{PR_SUBJECT, subject}});
  if (!problems.ok()) return problems.status();
  return (*m)->SaveChanges(0).status();
}

// The bytes of a PR_INSTANCE_KEY value; "" for PR_NULL (no prior row).
std::string KeyBytes(const PropValue& v) {
  if (v.tag == PR_NULL) return "";
  EXPECT_EQ(v.tag, PR_INSTANCE_KEY);
  const Binary* b = std::get_if<Binary>(&v.value);
  EXPECT_NE(b, nullptr);
  if (b == nullptr) return "<bad>";
  EXPECT_EQ(b->bytes.size(), 8u);
  return b->bytes;
}

// A table notification, flattened for comparison.
struct Event {
  ULONG event = 0;
  HRESULT hresult = S_OK;
  std::string index;  // Instance key bytes; "" when absent.
  std::string prior;  // "" for PR_NULL.
  Row row;
  size_t batch = 0;
  uint64_t sequence = 0;
};

Event EventOf(const Seen& seen) {
  Event e;
  EXPECT_NE(seen.notification, nullptr);
  if (seen.notification == nullptr) return e;
  EXPECT_EQ(seen.notification->event_type, fnevTableModified);
  const TableNotification* t = seen.notification->table();
  EXPECT_NE(t, nullptr);
  if (t == nullptr) return e;
  e.event = t->table_event;
  e.hresult = t->hresult;
  if (t->index_key.tag != PR_NULL) e.index = KeyBytes(t->index_key);
  e.prior = KeyBytes(t->prior_key);
  e.row = t->row;
  e.batch = seen.batch_size;
  e.sequence = seen.sequence;
  return e;
}

// The next `n` notifications, as one operation's batch.
std::vector<Event> NextBatch(SinkReader& reader, size_t n) {
  std::vector<Event> out;
  for (const Seen& seen : reader.Next(n)) out.push_back(EventOf(seen));
  for (size_t i = 0; i < out.size(); ++i) {
    EXPECT_EQ(out[i].batch, n) << "not one OnNotify call";
    if (i > 0) {
      EXPECT_GT(out[i].sequence, out[i - 1].sequence);
    }
  }
  return out;
}

Event NextOne(SinkReader& reader) {
  std::vector<Event> one = NextBatch(reader, 1);
  return one.empty() ? Event{} : one[0];
}

// The instance keys of every row of `table`, in order.
Strings Keys(Table& table) {
  auto snapshot = table.QueryAllRows();
  EXPECT_TRUE(snapshot.ok()) << snapshot.status();
  Strings out;
  if (snapshot.ok()) {
    for (const Row& row : snapshot->rows) out.push_back(KeyOf(row));
  }
  return out;
}

Strings Subjects(Table& table) {
  auto snapshot = table.QueryAllRows();
  EXPECT_TRUE(snapshot.ok()) << snapshot.status();
  Strings out;
  if (snapshot.ok()) {
    for (const Row& row : snapshot->rows)
      out.push_back(StringOf(row, PR_SUBJECT));
  }
  return out;
}

// Applies row events to `keys` as a client mirror would: a row goes right
// after its prior (first for PR_NULL).
void Apply(const Event& e, Strings* keys) {
  auto erase = [&] {
    auto it = std::find(keys->begin(), keys->end(), e.index);
    ASSERT_NE(it, keys->end()) << "event for an unknown row";
    keys->erase(it);
  };
  auto insert = [&] {
    auto at = keys->begin();
    if (!e.prior.empty()) {
      at = std::find(keys->begin(), keys->end(), e.prior);
      ASSERT_NE(at, keys->end()) << "prior is not in the view";
      ++at;
    }
    keys->insert(at, e.index);
  };
  switch (e.event) {
    case TABLE_ROW_ADDED:
      insert();
      break;
    case TABLE_ROW_MODIFIED:
      erase();
      insert();
      break;
    case TABLE_ROW_DELETED:
      erase();
      break;
    default:
      ADD_FAILURE() << "not a row event: " << e.event;
  }
}

class TableNotify : public TableFixture {
 protected:
  void SetUp() override { OpenWithFolder("Notify"); }

  std::unique_ptr<Table> Open(const EntryId& folder) {
    auto table = store_->OpenContentsTable(folder);
    EXPECT_TRUE(table.ok()) << table.status();
    return table.ok() ? *std::move(table) : nullptr;
  }

  // A sink advised on `table`'s view for fnevTableModified.
  std::shared_ptr<RecordingSink> Watch(Table& table) {
    return AdviseRecording(*f_.session,
                           AdviseTarget::TableView(table.view_id()),
                           fnevTableModified);
  }
};

TEST_F(TableNotify, RowsAddedModifiedAndDeletedInTheViewsColumns) {
  std::vector<EntryId> ids;
  for (int i = 0; i < 2; ++i) {
    ids.push_back(SaveMessage(*store_, folder_, absl::StrCat("m", i)));
  }
  auto table = Open(folder_);
  ASSERT_NE(table, nullptr);
  ASSERT_TRUE(table->SetColumns({PR_SUBJECT, PR_INSTANCE_KEY}).ok());
  const Strings before = Keys(*table);
  ASSERT_EQ(before.size(), 2u);
  SinkReader reader(Watch(*table));

  ids.push_back(SaveMessage(*store_, folder_, "m2"));
  Event added = NextOne(reader);
  EXPECT_EQ(added.event, TABLE_ROW_ADDED);
  EXPECT_EQ(added.prior, before[1]);
  const Strings after_add = Keys(*table);
  ASSERT_EQ(after_add.size(), 3u);
  EXPECT_EQ(added.index, after_add[2]);
  ASSERT_EQ(added.row.size(), 2u);
  EXPECT_EQ(added.row[0], (PropValue{PR_SUBJECT, std::string("m2")}));
  EXPECT_EQ(KeyBytes(added.row[1]), added.index);

  ASSERT_TRUE(SetSubject(*store_, ids[1], "m1 changed").ok());
  Event modified = NextOne(reader);
  EXPECT_EQ(modified.event, TABLE_ROW_MODIFIED);
  EXPECT_EQ(modified.index, before[1]);
  EXPECT_EQ(modified.prior, before[0]);
  ASSERT_EQ(modified.row.size(), 2u);
  EXPECT_EQ(modified.row[0],
            (PropValue{PR_SUBJECT, std::string("m1 changed")}));

  // A change outside the view's columns, order and restriction: no event.
  {
    auto m = store_->OpenMessage(ids[2], MAPI_MODIFY);
    ASSERT_TRUE(m.ok()) << m.status();
    ASSERT_TRUE((*m)->SetProps({{PR_BODY, std::string("unseen")}}).ok());
    ASSERT_TRUE((*m)->SaveChanges(0).ok());
  }
  ASSERT_TRUE(store_->DeleteMessages(folder_, {ids[0]}, 0).ok());
  Event deleted = NextOne(reader);  // The delete's, not the body change's.
  EXPECT_EQ(deleted.event, TABLE_ROW_DELETED);
  EXPECT_EQ(deleted.index, before[0]);
  EXPECT_TRUE(deleted.row.empty());
  EXPECT_EQ(reader.unread(), 0u);
}

TEST_F(TableNotify, TheFirstRowsPriorIsPrNull) {
  auto table = Open(folder_);
  ASSERT_NE(table, nullptr);
  ASSERT_TRUE(table->SortTable({{PR_SUBJECT, TABLE_SORT_ASCEND}}).ok());
  SinkReader reader(Watch(*table));

  SaveMessage(*store_, folder_, "m");  // Into the empty view.
  Event first = NextOne(reader);
  EXPECT_EQ(first.event, TABLE_ROW_ADDED);
  EXPECT_EQ(first.prior, "");
  SaveMessage(*store_, folder_, "a");  // Sorts before "m".
  Event before = NextOne(reader);
  EXPECT_EQ(before.event, TABLE_ROW_ADDED);
  EXPECT_EQ(before.prior, "");
  SaveMessage(*store_, folder_, "z");  // After "m".
  Event last = NextOne(reader);
  EXPECT_EQ(last.prior, first.index);
  EXPECT_EQ(Keys(*table), (Strings{before.index, first.index, last.index}));
}

TEST_F(TableNotify, ChangingASortedColumnMovesTheRow) {
  const EntryId a = SaveMessage(*store_, folder_, "a");
  const EntryId c = SaveMessage(*store_, folder_, "c");
  const EntryId e = SaveMessage(*store_, folder_, "e");
  auto table = Open(folder_);
  ASSERT_NE(table, nullptr);
  ASSERT_TRUE(table->SortTable({{PR_SUBJECT, TABLE_SORT_ASCEND}}).ok());
  const Strings keys = Keys(*table);  // a, c, e.
  ASSERT_EQ(keys.size(), 3u);
  SinkReader reader(Watch(*table));

  ASSERT_TRUE(SetSubject(*store_, a, "d").ok());  // a moves between c and e.
  Event moved = NextOne(reader);
  EXPECT_EQ(moved.event, TABLE_ROW_MODIFIED);
  EXPECT_EQ(moved.index, keys[0]);
  EXPECT_EQ(moved.prior, keys[1]);
  EXPECT_EQ(StringOf(moved.row, PR_SUBJECT), "d");
  EXPECT_EQ(Subjects(*table), (Strings{"c", "d", "e"}));

  ASSERT_TRUE(SetSubject(*store_, e, "b").ok());  // e moves to the front.
  Event front = NextOne(reader);
  EXPECT_EQ(front.event, TABLE_ROW_MODIFIED);
  EXPECT_EQ(front.index, keys[2]);
  EXPECT_EQ(front.prior, "");
  EXPECT_EQ(Keys(*table), (Strings{keys[2], keys[1], keys[0]}));
  (void)c;
}

TEST_F(TableNotify, OneOperationsEventsComeInOneBatchAndReplayTheView) {
  std::vector<EntryId> ids;
  for (int i = 0; i < 6; ++i) {
    ids.push_back(SaveMessage(*store_, folder_, absl::StrCat("m", i)));
  }
  auto other = store_->CreateFolder(store_->ipm_subtree_id(), "Other", "", 0);
  ASSERT_TRUE(other.ok()) << other.status();
  std::vector<EntryId> elsewhere;
  for (const char* s : {"c", "a", "m3x"}) {
    elsewhere.push_back(SaveMessage(*store_, *other, s));
  }
  auto table = Open(folder_);
  ASSERT_NE(table, nullptr);
  ASSERT_TRUE(table->SortTable({{PR_SUBJECT, TABLE_SORT_ASCEND}}).ok());
  Strings mirror = Keys(*table);
  SinkReader reader(Watch(*table));

  // Three deletions: three ROW_DELETED in one OnNotify call.
  ASSERT_TRUE(
      store_->DeleteMessages(folder_, {ids[1], ids[3], ids[4]}, 0).ok());
  std::vector<Event> deleted = NextBatch(reader, 3);
  for (const Event& e : deleted) {
    EXPECT_EQ(e.event, TABLE_ROW_DELETED);
    Apply(e, &mirror);
  }
  EXPECT_EQ(mirror, Keys(*table));

  // Three copies in: three ROW_ADDED in one call, each after its prior as
  // the events before it left the view.
  ASSERT_TRUE(store_->CopyMessages(*other, elsewhere, folder_, 0).ok());
  std::vector<Event> added = NextBatch(reader, 3);
  for (const Event& e : added) {
    EXPECT_EQ(e.event, TABLE_ROW_ADDED);
    Apply(e, &mirror);
  }
  EXPECT_EQ(mirror, Keys(*table));
  EXPECT_EQ(Subjects(*table), (Strings{"a", "c", "m0", "m2", "m3x", "m5"}));
  EXPECT_EQ(reader.unread(), 0u);
}

TEST_F(TableNotify, RowsLeavingAndEnteringTheRestrictionAreDeletedAndAdded) {
  std::vector<EntryId> ids;
  for (int i = 0; i < 3; ++i) {
    ids.push_back(SaveMessage(*store_, folder_, absl::StrCat("m", i)));
  }
  auto table = Open(folder_);
  ASSERT_NE(table, nullptr);
  // Unread only; saved messages start read.
  ASSERT_TRUE(table
                  ->Restrict(Restriction::Bitmask(BMR_EQZ, PR_MESSAGE_FLAGS,
                                                  MSGFLAG_READ))
                  .ok());
  EXPECT_TRUE(Keys(*table).empty());
  SinkReader reader(Watch(*table));

  ASSERT_TRUE(store_->SetReadFlags(folder_, {ids[1]}, CLEAR_READ_FLAG).ok());
  Event in1 = NextOne(reader);
  EXPECT_EQ(in1.event, TABLE_ROW_ADDED);
  EXPECT_EQ(in1.prior, "");
  EXPECT_EQ(StringOf(in1.row, PR_SUBJECT), "m1");
  ASSERT_TRUE(store_->SetReadFlags(folder_, {ids[2]}, CLEAR_READ_FLAG).ok());
  Event in2 = NextOne(reader);
  EXPECT_EQ(in2.event, TABLE_ROW_ADDED);
  EXPECT_EQ(in2.prior, in1.index);
  EXPECT_EQ(Keys(*table), (Strings{in1.index, in2.index}));

  ASSERT_TRUE(store_->SetReadFlags(folder_, {ids[1]}, 0).ok());
  Event out = NextOne(reader);
  EXPECT_EQ(out.event, TABLE_ROW_DELETED);
  EXPECT_EQ(out.index, in1.index);
  EXPECT_EQ(Keys(*table), (Strings{in2.index}));
  // A change to a row outside the restriction says nothing.
  ASSERT_TRUE(SetSubject(*store_, ids[0], "m0 changed").ok());
  ASSERT_TRUE(store_->SetReadFlags(folder_, {ids[2]}, 0).ok());
  Event last = NextOne(reader);
  EXPECT_EQ(last.event, TABLE_ROW_DELETED);
  EXPECT_EQ(last.index, in2.index);
}

TEST_F(TableNotify, MoreThanEightRowChangesBecomeOneTableChanged) {
  std::vector<EntryId> ids;
  for (int i = 0; i < 9; ++i) {
    ids.push_back(SaveMessage(*store_, folder_, absl::StrCat("m", i)));
  }
  auto table = Open(folder_);  // Default columns: PR_MESSAGE_FLAGS is one.
  ASSERT_NE(table, nullptr);
  SinkReader reader(Watch(*table));

  // Eight rows change: eight ROW_MODIFIED, in one call.
  const std::vector<EntryId> eight(ids.begin(), ids.begin() + 8);
  ASSERT_TRUE(store_->SetReadFlags(folder_, eight, CLEAR_READ_FLAG).ok());
  std::vector<Event> modified = NextBatch(reader, 8);
  for (const Event& e : modified) EXPECT_EQ(e.event, TABLE_ROW_MODIFIED);
  // One more (only m8 is still read).
  ASSERT_TRUE(store_->SetReadFlags(folder_, {}, CLEAR_READ_FLAG).ok());
  EXPECT_EQ(NextOne(reader).event, TABLE_ROW_MODIFIED);

  // Nine rows change: one TABLE_CHANGED instead, and nothing else.
  ASSERT_TRUE(store_->SetReadFlags(folder_, {}, 0).ok());
  Event changed = NextOne(reader);
  EXPECT_EQ(changed.event, TABLE_CHANGED);
  ASSERT_TRUE(store_->DeleteMessages(folder_, {ids[0]}, 0).ok());
  Event next = NextOne(reader);
  EXPECT_EQ(next.event, TABLE_ROW_DELETED);

  // After TABLE_CHANGED the view still reads right.
  auto count = table->GetRowCount();
  ASSERT_TRUE(count.ok()) << count.status();
  EXPECT_EQ(*count, 8u);
  // Nine deletions in one operation: TABLE_CHANGED as well.
  SaveMessage(*store_, folder_, "m9");
  EXPECT_EQ(NextOne(reader).event, TABLE_ROW_ADDED);
  ASSERT_TRUE(store_->EmptyFolder(folder_, 0).ok());
  EXPECT_EQ(NextOne(reader).event, TABLE_CHANGED);
  count = table->GetRowCount();
  ASSERT_TRUE(count.ok()) << count.status();
  EXPECT_EQ(*count, 0u);
}

TEST_F(TableNotify, AsyncChangesReportTheirCompletionOrTheirError) {
  for (int i = 0; i < 3; ++i) {
    SaveMessage(*store_, folder_, absl::StrCat("m", i));
  }
  auto table = Open(folder_);
  ASSERT_NE(table, nullptr);
  SinkReader reader(Watch(*table));

  // Synchronous: the rows must be read again.
  ASSERT_TRUE(table->SetColumns({PR_INSTANCE_KEY, PR_SUBJECT}).ok());
  EXPECT_EQ(NextOne(reader).event, TABLE_RELOAD);

  ASSERT_TRUE(table->SetColumns({PR_SUBJECT, PR_INSTANCE_KEY}, TBL_ASYNC).ok());
  Event setcol = NextOne(reader);
  EXPECT_EQ(setcol.event, TABLE_SETCOL_DONE);
  EXPECT_EQ(setcol.hresult, S_OK);
  auto columns = table->QueryColumns();
  ASSERT_TRUE(columns.ok()) << columns.status();
  EXPECT_EQ(*columns, (std::vector<ULONG>{PR_SUBJECT, PR_INSTANCE_KEY}));

  ASSERT_TRUE(
      table
          ->Restrict(Restriction::Property(RELOP_NE, PR_SUBJECT,
                                           {PR_SUBJECT, std::string("m1")}),
                     TBL_ASYNC)
          .ok());
  EXPECT_EQ(NextOne(reader).event, TABLE_RESTRICT_DONE);
  ASSERT_TRUE(
      table->SortTable({{PR_SUBJECT, TABLE_SORT_DESCEND}}, TBL_ASYNC).ok());
  EXPECT_EQ(NextOne(reader).event, TABLE_SORT_DONE);
  EXPECT_EQ(Subjects(*table), (Strings{"m2", "m0"}));

  // A refused TBL_ASYNC sort answers OK and reports TABLE_ERROR; the view
  // keeps its order.
  ASSERT_TRUE(
      table
          ->SortTable({{PROP_TAG(PT_MV_UNICODE, 0x6702), TABLE_SORT_ASCEND}},
                      TBL_ASYNC)
          .ok());
  Event error = NextOne(reader);
  EXPECT_EQ(error.event, TABLE_ERROR);
  EXPECT_EQ(error.hresult, MAPI_E_TOO_COMPLEX);
  auto sort = table->QuerySortOrder();
  ASSERT_TRUE(sort.ok()) << sort.status();
  EXPECT_EQ(*sort, (SortOrderSet{{PR_SUBJECT, TABLE_SORT_DESCEND}}));
  // A refused TBL_ASYNC restriction likewise.
  ASSERT_TRUE(
      table
          ->Restrict(Restriction::Property(99, PR_SUBJECT,
                                           {PR_SUBJECT, std::string("x")}),
                     TBL_ASYNC)
          .ok());
  Event restrict_error = NextOne(reader);
  EXPECT_EQ(restrict_error.event, TABLE_ERROR);
  EXPECT_EQ(restrict_error.hresult, MAPI_E_INVALID_PARAMETER);
  EXPECT_EQ(Subjects(*table), (Strings{"m2", "m0"}));

  // Refused without TBL_ASYNC: the error is the answer, nothing is
  // published (the next event is the next operation's).
  EXPECT_EQ(ScodeOf(table->SortTable(
                {{PROP_TAG(PT_MV_UNICODE, 0x6702), TABLE_SORT_ASCEND}})),
            MAPI_E_TOO_COMPLEX);
  SaveMessage(*store_, folder_, "m3");
  Event added = NextOne(reader);
  EXPECT_EQ(added.event, TABLE_ROW_ADDED);
  EXPECT_EQ(StringOf(added.row, PR_SUBJECT), "m3");
}

TEST_F(TableNotify, AClosedOrUnknownViewCannotBeAdvised) {
  auto sink = std::make_shared<RecordingSink>();
  auto unknown = f_.session->Advise(AdviseTarget::TableView(987654321),
                                    fnevTableModified, sink);
  EXPECT_EQ(ScodeOf(unknown.status()), MAPI_E_NOT_FOUND) << unknown.status();

  auto table = Open(folder_);
  ASSERT_NE(table, nullptr);
  const uint64_t view = table->view_id();
  ASSERT_TRUE(table->Close().ok());
  auto closed = f_.session->Advise(AdviseTarget::TableView(view),
                                   fnevTableModified, sink);
  EXPECT_EQ(ScodeOf(closed.status()), MAPI_E_NOT_FOUND) << closed.status();

  // A view closed while advised gets nothing more; another view of the
  // same folder does.
  auto closing = Open(folder_);
  auto staying = Open(folder_);
  ASSERT_TRUE(closing != nullptr && staying != nullptr);
  auto closing_sink = Watch(*closing);
  SinkReader staying_reader(Watch(*staying));
  ASSERT_TRUE(closing->Close().ok());
  SaveMessage(*store_, folder_, "after close");
  EXPECT_EQ(NextOne(staying_reader).event, TABLE_ROW_ADDED);
  EXPECT_EQ(closing_sink->count(), 0u);
}

}  // namespace
}  // namespace mapinotify::testing
