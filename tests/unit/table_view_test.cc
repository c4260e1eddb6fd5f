// TableView (server/store/table_view.h): order by several keys ascending /
// descending with the tie-break, the events of Upsert / Remove, the cursor,
// QueryRows forward / backward / without advancing and its limits, SeekRow
// clamping, bookmarks that follow their rows, FindRow in both directions;
// and a randomized check that a mirror applying the events, a cursor and a
// bookmark tracked through them, always agree with the view.
#include "server/store/table_view.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "common/internal/proto_convert.h"
#include "gtest/gtest.h"
#include "mapinotify/mapi.h"
#include "mapinotify/status.h"
#include "mapinotify/v1/mapi.pb.h"

namespace mapinotify::server::store {
namespace {

constexpr ULONG PR_KEY = PROP_TAG(PT_I8, 0x6700);
constexpr ULONG PR_RANK = PROP_TAG(PT_LONG, 0x6701);
constexpr ULONG PR_NAME = PROP_TAG(PT_UNICODE, 0x6702);

using SortValues = std::vector<std::optional<PropValue>>;

std::optional<PropValue> Rank(int32_t rank) { return PropValue{PR_RANK, rank}; }
std::optional<PropValue> Name(const std::string& name) {
  return PropValue{PR_NAME, name};
}

// A row whose columns are its key and a label.
TableRow MakeRow(uint64_t key, SortValues sort_values,
                 const std::string& label = "") {
  TableRow row;
  row.key = key;
  row.sort_values = std::move(sort_values);
  row.columns = {PropValue{PR_KEY, static_cast<int64_t>(key)},
                 PropValue{PR_NAME, label}};
  return row;
}

uint64_t KeyOf(const Row& row) {
  return static_cast<uint64_t>(std::get<int64_t>(row.at(0).value));
}

std::vector<uint64_t> Keys(const TableView& view) {
  std::vector<uint64_t> keys;
  for (const TableRow& row : view.rows()) keys.push_back(row.key);
  return keys;
}

std::vector<uint64_t> Keys(const std::vector<Row>& rows) {
  std::vector<uint64_t> keys;
  for (const Row& row : rows) keys.push_back(KeyOf(row));
  return keys;
}

// The key of the row at the cursor; nullopt at the end.
std::optional<uint64_t> AtCursor(TableView& view) {
  std::vector<Row> rows = view.QueryRows(1, /*advance=*/false, 10, 1 << 20);
  if (rows.empty()) return std::nullopt;
  return KeyOf(rows[0]);
}

// A view of rows 1..n with no sort keys (tie-break order).
TableView Plain(uint64_t n) {
  TableView view;
  for (uint64_t k = 1; k <= n; ++k) view.Upsert(MakeRow(k, {}));
  return view;
}

TEST(TableViewTest, OrdersBySeveralKeysThenByKeyAscending) {
  TableView view({{PR_RANK, TABLE_SORT_DESCEND}, {PR_NAME, TABLE_SORT_ASCEND}});
  view.Upsert(MakeRow(1, {Rank(1), Name("b")}));
  view.Upsert(MakeRow(2, {Rank(2), Name("b")}));
  view.Upsert(MakeRow(3, {Rank(1), Name("A")}));
  view.Upsert(MakeRow(4, {std::nullopt, Name("a")}));  // No rank: last (desc).
  view.Upsert(MakeRow(5, {Rank(1), std::nullopt}));    // No name: first.
  view.Upsert(MakeRow(6, {Rank(1), Name("b")}));       // Tie with 1.
  view.Upsert(MakeRow(0, {Rank(1), Name("b")}));       // Tie, smaller key.
  EXPECT_EQ(Keys(view), (std::vector<uint64_t>{2, 5, 3, 0, 1, 6, 4}));
}

TEST(TableViewTest, MissingValuesSortFirstAscendingAndTieBreakStaysAscending) {
  TableView view({{PR_RANK, TABLE_SORT_ASCEND}});
  for (uint64_t k : {5, 3, 9}) view.Upsert(MakeRow(k, {std::nullopt}));
  view.Upsert(MakeRow(4, {Rank(-7)}));
  view.Upsert(MakeRow(1, {Rank(-7)}));
  EXPECT_EQ(Keys(view), (std::vector<uint64_t>{3, 5, 9, 1, 4}));
  view.Reset(
      {{PR_RANK, TABLE_SORT_DESCEND}},
      {MakeRow(5, {std::nullopt}), MakeRow(3, {std::nullopt}),
       MakeRow(4, {Rank(-7)}), MakeRow(1, {Rank(-7)}), MakeRow(2, {Rank(8)})});
  EXPECT_EQ(Keys(view), (std::vector<uint64_t>{2, 1, 4, 3, 5}));
}

TEST(TableViewTest, UpsertAndRemoveReportTheEventsToPublish) {
  TableView view({{PR_RANK, TABLE_SORT_ASCEND}});
  RowEvent e = view.Upsert(MakeRow(10, {Rank(5)}, "x"));
  EXPECT_EQ(e.event, TABLE_ROW_ADDED);
  EXPECT_EQ(e.key, 10u);
  EXPECT_EQ(e.prior, std::nullopt);
  EXPECT_EQ(KeyOf(e.columns), 10u);
  e = view.Upsert(MakeRow(11, {Rank(7)}));
  EXPECT_EQ(e.event, TABLE_ROW_ADDED);
  EXPECT_EQ(e.prior, std::optional<uint64_t>(10));
  e = view.Upsert(MakeRow(12, {Rank(1)}));
  EXPECT_EQ(e.prior, std::nullopt);
  // Same values: nothing.
  EXPECT_EQ(view.Upsert(MakeRow(10, {Rank(5)}, "x")).event, 0u);
  // A new sort value that keeps the same predecessor, same columns: nothing.
  EXPECT_EQ(view.Upsert(MakeRow(10, {Rank(6)}, "x")).event, 0u);
  // Columns changed in place: MODIFIED with the same prior.
  e = view.Upsert(MakeRow(10, {Rank(6)}, "y"));
  EXPECT_EQ(e.event, TABLE_ROW_MODIFIED);
  EXPECT_EQ(e.prior, std::optional<uint64_t>(12));
  EXPECT_EQ(std::get<std::string>(e.columns[1].value), "y");
  // Moved: MODIFIED with the new prior, even with the same columns.
  e = view.Upsert(MakeRow(10, {Rank(9)}, "y"));
  EXPECT_EQ(e.event, TABLE_ROW_MODIFIED);
  EXPECT_EQ(e.prior, std::optional<uint64_t>(11));
  EXPECT_EQ(Keys(view), (std::vector<uint64_t>{12, 11, 10}));
  e = view.Upsert(MakeRow(10, {Rank(0)}, "y"));
  EXPECT_EQ(e.event, TABLE_ROW_MODIFIED);
  EXPECT_EQ(e.prior, std::nullopt);
  e = view.Remove(11);
  EXPECT_EQ(e.event, TABLE_ROW_DELETED);
  EXPECT_EQ(e.key, 11u);
  EXPECT_EQ(view.Remove(11).event, 0u);
  EXPECT_EQ(Keys(view), (std::vector<uint64_t>{10, 12}));
  EXPECT_TRUE(view.Contains(12));
  EXPECT_FALSE(view.Contains(11));
}

TEST(TableViewTest, QueryRowsForwardBackwardAndWithoutAdvancing) {
  TableView view = Plain(5);
  EXPECT_EQ(Keys(view.QueryRows(2, true, 100, 1 << 20)),
            (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(view.QueryPosition().row, 2u);
  EXPECT_EQ(Keys(view.QueryRows(2, false, 100, 1 << 20)),
            (std::vector<uint64_t>{3, 4}));
  EXPECT_EQ(view.QueryPosition().row, 2u);  // TBL_NOADVANCE
  EXPECT_EQ(Keys(view.QueryRows(10, true, 100, 1 << 20)),
            (std::vector<uint64_t>{3, 4, 5}));
  EXPECT_TRUE(view.QueryRows(1, true, 100, 1 << 20).empty());  // At the end.
  // Backward: the rows before the cursor, in table order; the cursor moves
  // to the first of them, with or without advancing.
  EXPECT_EQ(Keys(view.QueryRows(-2, true, 100, 1 << 20)),
            (std::vector<uint64_t>{4, 5}));
  EXPECT_EQ(view.QueryPosition().row, 3u);
  EXPECT_EQ(Keys(view.QueryRows(-1, false, 100, 1 << 20)),
            (std::vector<uint64_t>{3}));
  EXPECT_EQ(view.QueryPosition().row, 2u);
  EXPECT_EQ(Keys(view.QueryRows(-10, true, 100, 1 << 20)),
            (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(view.QueryPosition().row, 0u);
  EXPECT_TRUE(view.QueryRows(-1, true, 100, 1 << 20).empty());
  EXPECT_EQ(Keys(view.QueryRows(std::numeric_limits<int32_t>::min(), true, 100,
                                1 << 20)),
            std::vector<uint64_t>{});
}

TEST(TableViewTest, QueryRowsLimits) {
  TableView view = Plain(6);
  EXPECT_EQ(Keys(view.QueryRows(5, true, 2, 1 << 20)),
            (std::vector<uint64_t>{1, 2}));
  // Each row: a PT_I8 and an empty string, framing only (2 x 32 bytes).
  ASSERT_EQ(RowByteSize(view.rows()[0].columns), 2 * kWireBytesPerValue);
  EXPECT_EQ(Keys(view.QueryRows(5, true, 100, 4 * kWireBytesPerValue)),
            (std::vector<uint64_t>{3, 4}));
  // At least one row, whatever the byte limit.
  EXPECT_EQ(Keys(view.QueryRows(5, true, 100, 1)), std::vector<uint64_t>{5});
  // Backward limits keep the rows nearest the cursor.
  EXPECT_EQ(Keys(view.QueryRows(-5, true, 2, 1 << 20)),
            (std::vector<uint64_t>{4, 5}));
  EXPECT_EQ(Keys(view.QueryRows(-5, true, 100, 20)), std::vector<uint64_t>{3});
  EXPECT_EQ(view.QueryPosition().row, 2u);
}

TEST(TableViewTest, SeekRowClampsAndReturnsTheRowsSought) {
  TableView view = Plain(5);
  EXPECT_EQ(view.SeekRow(BOOKMARK_BEGINNING, 3, nullptr).value(), 3);
  EXPECT_EQ(view.SeekRow(BOOKMARK_CURRENT, -1, nullptr).value(), -1);
  EXPECT_EQ(AtCursor(view), std::optional<uint64_t>(3));
  EXPECT_EQ(view.SeekRow(BOOKMARK_CURRENT, 100, nullptr).value(), 3);
  EXPECT_EQ(view.QueryPosition().row, 5u);
  EXPECT_EQ(AtCursor(view), std::nullopt);
  EXPECT_EQ(view.SeekRow(BOOKMARK_END, -2, nullptr).value(), -2);
  EXPECT_EQ(AtCursor(view), std::optional<uint64_t>(4));
  EXPECT_EQ(view.SeekRow(BOOKMARK_END, 1, nullptr).value(), 0);
  EXPECT_EQ(view.SeekRow(BOOKMARK_BEGINNING, -1, nullptr).value(), 0);
  EXPECT_EQ(
      view.SeekRow(BOOKMARK_END, std::numeric_limits<int32_t>::min(), nullptr)
          .value(),
      -5);
  EXPECT_EQ(view.SeekRow(BOOKMARK_BEGINNING,
                         std::numeric_limits<int32_t>::max(), nullptr)
                .value(),
            5);
  const TablePosition position = view.QueryPosition();
  EXPECT_EQ(position.row, 5u);
  EXPECT_EQ(position.numerator, 5u);
  EXPECT_EQ(position.denominator, 5u);
  TableView empty;
  EXPECT_EQ(empty.SeekRow(BOOKMARK_CURRENT, 4, nullptr).value(), 0);
  EXPECT_EQ(empty.QueryPosition().denominator, 0u);
}

TEST(TableViewTest, TheCursorKeepsItsRowWhileRowsComeAndGo) {
  TableView view({{PR_RANK, TABLE_SORT_ASCEND}});
  for (uint64_t k = 1; k <= 4; ++k) {
    view.Upsert(MakeRow(k, {Rank(static_cast<int32_t>(10 * k))}));
  }
  ASSERT_TRUE(view.SeekRow(BOOKMARK_BEGINNING, 2, nullptr).ok());  // On 3.
  view.Upsert(MakeRow(9, {Rank(0)}));                              // Before it.
  EXPECT_EQ(AtCursor(view), std::optional<uint64_t>(3));
  view.Upsert(MakeRow(8, {Rank(30)}));  // Ties with 3, larger key: after.
  EXPECT_EQ(AtCursor(view), std::optional<uint64_t>(3));
  view.Upsert(MakeRow(3, {Rank(5)}));  // Its row moves: the cursor follows.
  EXPECT_EQ(AtCursor(view), std::optional<uint64_t>(3));
  EXPECT_EQ(view.QueryPosition().row, 1u);
  view.Remove(3);  // Its row goes: the cursor is on the next one.
  EXPECT_EQ(AtCursor(view), std::optional<uint64_t>(1));
  // The end stays the end while rows come and go before it...
  ASSERT_TRUE(view.SeekRow(BOOKMARK_END, 0, nullptr).ok());
  view.Upsert(MakeRow(21, {Rank(-1)}));
  view.Remove(21);
  view.Remove(4);
  EXPECT_EQ(AtCursor(view), std::nullopt);
  EXPECT_EQ(view.QueryPosition().row, view.size());
  // ...and a row appended lands under it.
  view.Upsert(MakeRow(20, {Rank(1000)}));
  EXPECT_EQ(AtCursor(view), std::optional<uint64_t>(20));
  EXPECT_EQ(view.QueryPosition().row, view.size() - 1);
  // A row moved to the end too.
  ASSERT_TRUE(view.SeekRow(BOOKMARK_END, 0, nullptr).ok());
  view.Upsert(MakeRow(9, {Rank(2000)}));
  EXPECT_EQ(AtCursor(view), std::optional<uint64_t>(9));
}

TEST(TableViewTest, AnEmptyViewsCursorSeesTheRowsThatArrive) {
  TableView view({{PR_RANK, TABLE_SORT_ASCEND}});
  view.Upsert(MakeRow(1, {Rank(5)}));
  view.Upsert(MakeRow(2, {Rank(9)}));
  view.Upsert(MakeRow(3, {Rank(1)}));  // Before the cursor's row: follows 1.
  EXPECT_EQ(view.QueryPosition().row, 1u);
  EXPECT_EQ(Keys(view.QueryRows(5, true, 10, 1 << 20)),
            (std::vector<uint64_t>{1, 2}));
}

TEST(TableViewTest, BookmarksFollowTheirRowAndReportARemovedOne) {
  TableView view({{PR_RANK, TABLE_SORT_ASCEND}});
  for (uint64_t k = 1; k <= 5; ++k) {
    view.Upsert(MakeRow(k, {Rank(static_cast<int32_t>(k))}));
  }
  ASSERT_TRUE(view.SeekRow(BOOKMARK_BEGINNING, 1, nullptr).ok());
  const BOOKMARK on2 = view.CreateBookmark(10).value();
  ASSERT_TRUE(view.SeekRow(BOOKMARK_BEGINNING, 3, nullptr).ok());
  const BOOKMARK on4 = view.CreateBookmark(10).value();
  EXPECT_GT(on2, BOOKMARK_END);
  EXPECT_NE(on2, on4);
  view.Upsert(MakeRow(2, {Rank(100)}));  // 2 moves to the end.
  SCODE warning = -1;
  EXPECT_EQ(view.SeekRow(on2, 0, &warning).value(), 0);
  EXPECT_EQ(warning, S_OK);
  EXPECT_EQ(AtCursor(view), std::optional<uint64_t>(2));
  view.Remove(4);
  EXPECT_EQ(view.SeekRow(on4, 0, &warning).value(), 0);
  EXPECT_EQ(warning, MAPI_W_POSITION_CHANGED);
  EXPECT_EQ(AtCursor(view), std::optional<uint64_t>(5));
  // Reported once.
  EXPECT_EQ(view.SeekRow(on4, -1, &warning).value(), -1);
  EXPECT_EQ(warning, S_OK);
  EXPECT_EQ(AtCursor(view), std::optional<uint64_t>(3));
  // Freed: invalid; predefined ones free without effect.
  EXPECT_TRUE(view.FreeBookmark(on4).ok());
  EXPECT_EQ(ScodeOf(view.SeekRow(on4, 0, &warning).status()),
            MAPI_E_INVALID_BOOKMARK);
  EXPECT_EQ(ScodeOf(view.FreeBookmark(on4)), MAPI_E_INVALID_BOOKMARK);
  EXPECT_EQ(ScodeOf(view.FreeBookmark(12345)), MAPI_E_INVALID_BOOKMARK);
  for (BOOKMARK b : {BOOKMARK_BEGINNING, BOOKMARK_CURRENT, BOOKMARK_END}) {
    EXPECT_TRUE(view.FreeBookmark(b).ok());
  }
  // Reset discards every bookmark.
  view.Reset({}, {MakeRow(1, {})});
  EXPECT_EQ(ScodeOf(view.SeekRow(on2, 0, nullptr).status()),
            MAPI_E_INVALID_BOOKMARK);
}

TEST(TableViewTest, BookmarkLimitAndNoReuse) {
  TableView view = Plain(2);
  std::vector<BOOKMARK> made;
  for (int i = 0; i < 3; ++i) made.push_back(view.CreateBookmark(3).value());
  EXPECT_EQ(ScodeOf(view.CreateBookmark(3).status()),
            MAPI_E_UNABLE_TO_COMPLETE);
  ASSERT_TRUE(view.FreeBookmark(made[1]).ok());
  const BOOKMARK next = view.CreateBookmark(3).value();
  EXPECT_EQ(std::count(made.begin(), made.end(), next), 0);
}

TEST(TableViewTest, FindRowForwardIncludesTheOriginBackwardStartsBeforeIt) {
  TableView view = Plain(6);
  const auto even = [](const TableRow& row) { return row.key % 2 == 0; };
  ASSERT_TRUE(view.SeekRow(BOOKMARK_BEGINNING, 3, nullptr).ok());  // On 4.
  const BOOKMARK on4 = view.CreateBookmark(10).value();
  ASSERT_TRUE(view.FindRow(BOOKMARK_CURRENT, false, even, nullptr).ok());
  EXPECT_EQ(AtCursor(view), std::optional<uint64_t>(4));
  ASSERT_TRUE(view.FindRow(BOOKMARK_CURRENT, true, even, nullptr).ok());
  EXPECT_EQ(AtCursor(view), std::optional<uint64_t>(2));
  ASSERT_TRUE(view.FindRow(BOOKMARK_END, true, even, nullptr).ok());
  EXPECT_EQ(AtCursor(view), std::optional<uint64_t>(6));
  ASSERT_TRUE(view.FindRow(BOOKMARK_BEGINNING, false, even, nullptr).ok());
  EXPECT_EQ(AtCursor(view), std::optional<uint64_t>(2));
  // Not found: the cursor stays.
  const auto none = [](const TableRow& row) { return row.key > 100; };
  EXPECT_EQ(ScodeOf(view.FindRow(BOOKMARK_BEGINNING, false, none, nullptr)),
            MAPI_E_NOT_FOUND);
  EXPECT_EQ(ScodeOf(view.FindRow(BOOKMARK_BEGINNING, true, even, nullptr)),
            MAPI_E_NOT_FOUND);
  EXPECT_EQ(ScodeOf(view.FindRow(BOOKMARK_END, false, even, nullptr)),
            MAPI_E_NOT_FOUND);
  EXPECT_EQ(AtCursor(view), std::optional<uint64_t>(2));
  // From a bookmark whose row went away: the next row, with the warning.
  view.Remove(4);
  SCODE warning = S_OK;
  ASSERT_TRUE(view.FindRow(on4, false, even, &warning).ok());
  EXPECT_EQ(warning, MAPI_W_POSITION_CHANGED);
  EXPECT_EQ(AtCursor(view), std::optional<uint64_t>(6));
  EXPECT_EQ(ScodeOf(view.FindRow(777, false, even, nullptr)),
            MAPI_E_INVALID_BOOKMARK);
}

TEST(TableViewTest, SetColumnValuesKeepsOrderCursorAndBookmarks) {
  TableView view = Plain(3);
  ASSERT_TRUE(view.SeekRow(BOOKMARK_BEGINNING, 1, nullptr).ok());
  const BOOKMARK mark = view.CreateBookmark(10).value();
  ASSERT_TRUE(view.SeekRow(BOOKMARK_BEGINNING, 2, nullptr).ok());
  view.SetColumnValues([](uint64_t key) {
    return Row{PropValue{PR_KEY, static_cast<int64_t>(key)},
               PropValue{PR_NAME, std::string("n") + std::to_string(key)}};
  });
  EXPECT_EQ(AtCursor(view), std::optional<uint64_t>(3));
  EXPECT_EQ(std::get<std::string>(view.rows()[0].columns[1].value), "n1");
  EXPECT_TRUE(view.SeekRow(mark, 0, nullptr).ok());
  EXPECT_EQ(AtCursor(view), std::optional<uint64_t>(2));
}

// A client's copy of the view, kept by applying the events, with a cursor
// and a bookmark tracked by the rules the view promises.
struct Mirror {
  std::vector<std::pair<uint64_t, Row>> rows;
  // The key the cursor / bookmark points at; nullopt: the end.
  std::optional<uint64_t> cursor;
  std::optional<uint64_t> mark;
  bool mark_moved = false;

  size_t IndexOf(uint64_t key) const {
    for (size_t i = 0; i < rows.size(); ++i) {
      if (rows[i].first == key) return i;
    }
    ADD_FAILURE() << "no row " << key << " in the mirror";
    return rows.size();
  }
  std::optional<uint64_t> KeyAt(size_t i) const {
    if (i >= rows.size()) return std::nullopt;
    return rows[i].first;
  }
  void Insert(const RowEvent& e) {
    const size_t at = e.prior.has_value() ? IndexOf(*e.prior) + 1 : 0;
    const bool at_end = at == rows.size();
    rows.insert(rows.begin() + at, {e.key, e.columns});
    // The end points at no row: a row landing at the end lands under it.
    if (at_end && !cursor.has_value()) cursor = e.key;
    if (at_end && !mark.has_value()) mark = e.key;
  }
  void Apply(const RowEvent& e) {
    switch (e.event) {
      case TABLE_ROW_ADDED:
        for (const auto& r : rows) ASSERT_NE(r.first, e.key);
        Insert(e);
        break;
      case TABLE_ROW_MODIFIED:
        ASSERT_NE(e.prior, std::optional<uint64_t>(e.key));
        rows.erase(rows.begin() + IndexOf(e.key));
        Insert(e);
        break;
      case TABLE_ROW_DELETED: {
        const size_t at = IndexOf(e.key);
        rows.erase(rows.begin() + at);
        if (cursor == e.key) cursor = KeyAt(at);
        if (mark == e.key) {
          mark = KeyAt(at);
          mark_moved = true;
        }
        break;
      }
      default:
        ASSERT_EQ(e.event, 0u);
    }
  }
};

TEST(TableViewTest, RandomChangesKeepAMirrorCursorAndBookmarkExact) {
  for (uint32_t seed : {1u, 2u, 3u, 4u}) {
    SCOPED_TRACE(::testing::Message() << "seed " << seed);
    std::mt19937 rng(seed);
    const auto pick = [&rng](int n) {
      return std::uniform_int_distribution<int>(0, n - 1)(rng);
    };
    const SortOrderSet sort = {{PR_RANK, TABLE_SORT_DESCEND},
                               {PR_NAME, TABLE_SORT_ASCEND}};
    TableView view(sort);
    Mirror mirror;
    BOOKMARK mark = 0;
    for (int step = 0; step < 3000; ++step) {
      const uint64_t key = 1 + static_cast<uint64_t>(pick(40));
      const int what = pick(10);
      if (what < 6) {
        SortValues values = {
            pick(5) == 0 ? std::nullopt : Rank(pick(4)),
            pick(5) == 0 ? std::nullopt : Name(std::string(1, "aBc"[pick(3)]))};
        mirror.Apply(view.Upsert(
            MakeRow(key, std::move(values), std::to_string(pick(3)))));
      } else if (what < 9) {
        mirror.Apply(view.Remove(key));
      } else if (pick(2) == 0) {
        // Re-place the cursor (and sometimes the bookmark).
        const LONG to =
            static_cast<LONG>(pick(static_cast<int>(view.size()) + 1));
        ASSERT_TRUE(view.SeekRow(BOOKMARK_BEGINNING, to, nullptr).ok());
        mirror.cursor = mirror.KeyAt(static_cast<size_t>(to));
        if (pick(2) == 0) {
          if (mark != 0) {
            ASSERT_TRUE(view.FreeBookmark(mark).ok());
          }
          mark = view.CreateBookmark(4).value();
          mirror.mark = mirror.cursor;
          mirror.mark_moved = false;
        }
      } else if (mark != 0) {
        // Use the bookmark: the cursor goes to its row.
        SCODE warning = -1;
        ASSERT_EQ(view.SeekRow(mark, 0, &warning).value(), 0);
        EXPECT_EQ(warning, mirror.mark_moved ? MAPI_W_POSITION_CHANGED : S_OK);
        mirror.mark_moved = false;
        mirror.cursor = mirror.mark;
      }
      if (::testing::Test::HasFatalFailure()) return;
      // The mirror is the view, row for row.
      ASSERT_EQ(mirror.rows.size(), view.size()) << "step " << step;
      for (size_t i = 0; i < view.size(); ++i) {
        ASSERT_EQ(mirror.rows[i].first, view.rows()[i].key) << "step " << step;
        ASSERT_EQ(mirror.rows[i].second, view.rows()[i].columns);
      }
      // The view is sorted by its contract (checked independently).
      for (size_t i = 1; i < view.size(); ++i) {
        const TableRow& a = view.rows()[i - 1];
        const TableRow& b = view.rows()[i];
        // Rank descending with a missing one last, then the name ascending
        // by its folded letter then its bytes with a missing one first,
        // then the key.
        const auto order = [](const TableRow& r) {
          const std::optional<PropValue>& rank = r.sort_values[0];
          const std::optional<PropValue>& name = r.sort_values[1];
          std::string name_key;
          if (name.has_value()) {
            const std::string& text = std::get<std::string>(name->value);
            name_key =
                "+" +
                std::string(1, static_cast<char>(std::tolower(
                                   static_cast<unsigned char>(text[0])))) +
                text;
          }
          return std::make_tuple(
              rank.has_value() ? 0 : 1,
              rank.has_value() ? -std::get<int32_t>(rank->value) : 0, name_key,
              r.key);
        };
        const auto ka = order(a);
        const auto kb = order(b);
        ASSERT_LT(ka, kb) << "step " << step;
      }
      ASSERT_EQ(AtCursor(view), mirror.cursor) << "step " << step;
    }
  }
}

// RowByteSize bounds the wire size from above, for every value type and
// the worst cases of each (negative varints, empty and long strings,
// multi-valued values of empty elements, PT_ERROR, PR_NULL).
TEST(TableViewTest, RowByteSizeBoundsTheWireSize) {
  const std::string long_text(3000, 'x');
  const Row row = {
      {PR_NULL, std::monostate{}},
      {PROP_TAG(PT_LONG, 0x6701), int32_t{-1}},
      {PROP_TAG(PT_I8, 0x6702), std::numeric_limits<int64_t>::min()},
      {PROP_TAG(PT_BOOLEAN, 0x6703), true},
      {PROP_TAG(PT_DOUBLE, 0x6704), -1.5},
      {PROP_TAG(PT_SYSTIME, 0x6705), FileTime{~uint64_t{0}}},
      {PROP_TAG(PT_UNICODE, 0x6706), std::string()},
      {PROP_TAG(PT_UNICODE, 0x6707), long_text},
      {PROP_TAG(PT_BINARY, 0x6708), Binary{long_text}},
      {PROP_TAG(PT_CLSID, 0x6709), Guid{}},
      {PROP_TAG(PT_ERROR, 0xFFFE), ErrorValue{MAPI_E_NOT_FOUND}},
      {PROP_TAG(PT_MV_LONG, 0x670A), std::vector<int32_t>(50, -1)},
      {PROP_TAG(PT_MV_I8, 0x670B), std::vector<int64_t>(50, -1)},
      {PROP_TAG(PT_MV_DOUBLE, 0x670C), std::vector<double>(50, 1.0)},
      {PROP_TAG(PT_MV_SYSTIME, 0x670D), std::vector<FileTime>(50)},
      {PROP_TAG(PT_MV_UNICODE, 0x670E), std::vector<std::string>(50)},
      {PROP_TAG(PT_MV_BINARY, 0x670F), std::vector<Binary>(50)},
      {PROP_TAG(PT_MV_CLSID, 0x6710), std::vector<Guid>(50)},
  };
  v1::Row wire;
  for (const PropValue& value : row) {
    ASSERT_TRUE(::mapinotify::internal::ToProto(value, wire.add_props()).ok())
        << value.tag;
    v1::Row one;
    ASSERT_TRUE(::mapinotify::internal::ToProto(value, one.add_props()).ok());
    EXPECT_GE(RowByteSize({value}), one.ByteSizeLong())
        << "tag 0x" << std::hex << value.tag;
  }
  EXPECT_GE(RowByteSize(row), wire.ByteSizeLong());
  // And not wildly above it: the bound is for budgeting, not padding.
  EXPECT_LE(RowByteSize(row), 2 * wire.ByteSizeLong());
}

}  // namespace
}  // namespace mapinotify::server::store
