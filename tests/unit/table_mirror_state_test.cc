// MirrorState: the rules by which a TableMirror applies table notifications.
#include "client/table_mirror_state.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "mapinotify/mapi.h"
#include "mapinotify/status.h"

namespace mapinotify::internal {
namespace {

constexpr ULONG kScore = PROP_TAG(PT_LONG, 0x6700);

PropValue Key(const std::string& key) { return {PR_INSTANCE_KEY, Binary{key}}; }
PropValue NoPrior() { return {PR_NULL, std::monostate{}}; }
Row MakeRow(const std::string& key, int32_t score) {
  return {Key(key), {kScore, score}};
}

Notification TableEvent(ULONG event, const std::string& key = "",
                        PropValue prior = NoPrior(), Row row = {}) {
  TableNotification table;
  table.table_event = event;
  if (!key.empty()) table.index_key = Key(key);
  table.prior_key = std::move(prior);
  table.row = std::move(row);
  return Notification{fnevTableModified, table};
}

std::vector<std::string> Keys(const MirrorState& state) {
  std::vector<std::string> keys;
  for (const Row& row : state.rows()) {
    keys.push_back(std::get<Binary>(row[0].value).bytes);
  }
  return keys;
}

MirrorState Loaded(uint64_t sequence = 10) {
  MirrorState state;
  EXPECT_TRUE(state
                  .Load({PR_INSTANCE_KEY, kScore},
                        {MakeRow("a", 1), MakeRow("b", 2), MakeRow("c", 3)},
                        sequence)
                  .ok());
  return state;
}

using Outcome = MirrorState::Outcome;

TEST(MirrorStateTest, LoadRequiresTheInstanceKeyColumn) {
  MirrorState state;
  absl::Status status = state.Load({kScore}, {{{kScore, 1}}}, 1);
  EXPECT_EQ(ScodeOf(status), MAPI_E_INVALID_PARAMETER);
  EXPECT_FALSE(state.loaded());
  status = state.Load({PR_INSTANCE_KEY, kScore},
                      {MakeRow("a", 1), MakeRow("a", 2)}, 1);
  EXPECT_EQ(ScodeOf(status), MAPI_E_INVALID_PARAMETER) << "duplicate keys";
  status = state.Load({PR_INSTANCE_KEY, kScore}, {{Key("a")}}, 1);
  EXPECT_EQ(ScodeOf(status), MAPI_E_INVALID_PARAMETER) << "narrow row";
  EXPECT_FALSE(state.loaded());
}

TEST(MirrorStateTest, EveryNotificationNeedsAReloadBeforeTheFirstLoad) {
  MirrorState state;
  EXPECT_EQ(state.Apply(5, TableEvent(TABLE_ROW_DELETED, "a")),
            Outcome::kNeedsReload);
  EXPECT_EQ(state.inconsistencies(), 0u);
}

TEST(MirrorStateTest, RowEventsInsertAfterPriorMoveAndDelete) {
  MirrorState state = Loaded();
  EXPECT_EQ(state.Apply(11, TableEvent(TABLE_ROW_ADDED, "x", NoPrior(),
                                       MakeRow("x", 0))),
            Outcome::kApplied);
  EXPECT_EQ(Keys(state), (std::vector<std::string>{"x", "a", "b", "c"}));
  // A row added earlier in the same batch can be the prior.
  EXPECT_EQ(state.Apply(12, TableEvent(TABLE_ROW_ADDED, "y", Key("x"),
                                       MakeRow("y", 9))),
            Outcome::kApplied);
  EXPECT_EQ(Keys(state), (std::vector<std::string>{"x", "y", "a", "b", "c"}));
  // MODIFIED moves the row and replaces its values.
  EXPECT_EQ(state.Apply(13, TableEvent(TABLE_ROW_MODIFIED, "x", Key("c"),
                                       MakeRow("x", 42))),
            Outcome::kApplied);
  EXPECT_EQ(Keys(state), (std::vector<std::string>{"y", "a", "b", "c", "x"}));
  EXPECT_EQ(state.rows().back()[1], (PropValue{kScore, int32_t{42}}));
  EXPECT_EQ(state.Apply(14, TableEvent(TABLE_ROW_DELETED, "a")),
            Outcome::kApplied);
  EXPECT_EQ(Keys(state), (std::vector<std::string>{"y", "b", "c", "x"}));
  EXPECT_EQ(state.sequence(), 14u);
  EXPECT_EQ(state.inconsistencies(), 0u);
}

TEST(MirrorStateTest, NotificationsTheLoadAlreadyShowsAreSkipped) {
  MirrorState state = Loaded(/*sequence=*/10);
  EXPECT_EQ(state.Apply(9, TableEvent(TABLE_ROW_DELETED, "a")),
            Outcome::kSkipped);
  EXPECT_EQ(state.Apply(10, TableEvent(TABLE_ROW_ADDED, "a", NoPrior(),
                                       MakeRow("a", 1))),
            Outcome::kSkipped);
  EXPECT_EQ(Keys(state), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(state.sequence(), 10u);
}

TEST(MirrorStateTest, ReloadEventsAndTheResyncSignalAskForAReload) {
  MirrorState state = Loaded();
  for (ULONG event : {TABLE_CHANGED, TABLE_RELOAD, TABLE_SORT_DONE,
                      TABLE_RESTRICT_DONE, TABLE_SETCOL_DONE, TABLE_ERROR}) {
    EXPECT_EQ(state.Apply(20, TableEvent(event)), Outcome::kNeedsReload)
        << event;
  }
  EXPECT_EQ(state.Apply(0, TableEvent(TABLE_RELOAD)), Outcome::kNeedsReload);
  EXPECT_EQ(
      state.Apply(0, Notification{fnevCriticalError, ErrorNotification{}}),
      Outcome::kNeedsReload);
  EXPECT_EQ(state.sequence(), 10u) << "a reload request moves nothing";
  EXPECT_EQ(state.inconsistencies(), 0u);
}

TEST(MirrorStateTest, EventsThatDoNotFitAreCountedAndChangeNothing) {
  MirrorState state = Loaded();
  // Added twice, modified or deleted while absent, an unknown prior, a
  // prior naming the row itself, a row of the wrong width, a row whose key
  // column disagrees with the index key.
  EXPECT_EQ(state.Apply(11, TableEvent(TABLE_ROW_ADDED, "a", NoPrior(),
                                       MakeRow("a", 1))),
            Outcome::kNeedsReload);
  EXPECT_EQ(state.Apply(12, TableEvent(TABLE_ROW_MODIFIED, "z", NoPrior(),
                                       MakeRow("z", 1))),
            Outcome::kNeedsReload);
  EXPECT_EQ(state.Apply(13, TableEvent(TABLE_ROW_DELETED, "z")),
            Outcome::kNeedsReload);
  EXPECT_EQ(state.Apply(14, TableEvent(TABLE_ROW_ADDED, "n", Key("q"),
                                       MakeRow("n", 1))),
            Outcome::kNeedsReload);
  EXPECT_EQ(state.Apply(15, TableEvent(TABLE_ROW_MODIFIED, "b", Key("b"),
                                       MakeRow("b", 1))),
            Outcome::kNeedsReload);
  EXPECT_EQ(
      state.Apply(16, TableEvent(TABLE_ROW_ADDED, "n", NoPrior(), {Key("n")})),
      Outcome::kNeedsReload);
  EXPECT_EQ(state.Apply(17, TableEvent(TABLE_ROW_ADDED, "n", NoPrior(),
                                       MakeRow("m", 1))),
            Outcome::kNeedsReload);
  EXPECT_EQ(state.inconsistencies(), 7u);
  EXPECT_EQ(Keys(state), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(state.sequence(), 10u);
}

TEST(MirrorStateTest, OtherNotificationsAdvanceTheSequenceOnly) {
  MirrorState state = Loaded();
  EXPECT_EQ(
      state.Apply(30, Notification{fnevObjectModified, ObjectNotification{}}),
      Outcome::kApplied);
  EXPECT_EQ(state.sequence(), 30u);
  EXPECT_EQ(Keys(state), (std::vector<std::string>{"a", "b", "c"}));
}

}  // namespace
}  // namespace mapinotify::internal
