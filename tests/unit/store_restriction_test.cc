// Restrictions, sort-order validation, value comparison and case folding
// (server/store/restriction.h, case_fold.h): every restriction kind against
// one row, the comparison order of each property type, the limits and every
// kind of malformed input.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "mapinotify/mapi.h"
#include "mapinotify/status.h"
#include "mapinotify/table_types.h"
#include "server/store/case_fold.h"
#include "server/store/property_bag.h"
#include "server/store/restriction.h"

namespace mapinotify::server::store {
namespace {

constexpr ULONG PR_LONG_A = PROP_TAG(PT_LONG, 0x6601);
constexpr ULONG PR_LONG_B = PROP_TAG(PT_LONG, 0x6602);
constexpr ULONG PR_I8_A = PROP_TAG(PT_I8, 0x6603);
constexpr ULONG PR_DOUBLE_A = PROP_TAG(PT_DOUBLE, 0x6604);
constexpr ULONG PR_BOOL_A = PROP_TAG(PT_BOOLEAN, 0x6605);
constexpr ULONG PR_BIN_A = PROP_TAG(PT_BINARY, 0x6606);
constexpr ULONG PR_GUID_A = PROP_TAG(PT_CLSID, 0x6607);
constexpr ULONG PR_MV_TEXT = PROP_TAG(PT_MV_UNICODE, 0x6608);
constexpr ULONG PR_MV_BIN = PROP_TAG(PT_MV_BINARY, 0x6609);
constexpr ULONG PR_TEXT_B = PROP_TAG(PT_UNICODE, 0x660A);
constexpr ULONG PR_MISSING = PROP_TAG(PT_LONG, 0x660B);
constexpr ULONG PR_MISSING_TEXT = PROP_TAG(PT_UNICODE, 0x660C);

Guid MakeGuid(uint8_t first) {
  Guid g;
  g.bytes[0] = first;
  return g;
}

// One row with a value of every type.
PropertyBag TestRow() {
  PropertyBag row;
  row.Set({PR_LONG_A, int32_t{10}});
  row.Set({PR_LONG_B, int32_t{20}});
  row.Set({PR_I8_A, int64_t{1} << 40});
  row.Set({PR_DOUBLE_A, 2.5});
  row.Set({PR_BOOL_A, true});
  row.Set({PR_SUBJECT, std::string("Hello World")});
  row.Set({PR_TEXT_B, std::string("hello world")});
  row.Set({PR_BIN_A, Binary{std::string("\x01\x02\x03", 3)}});
  row.Set({PR_GUID_A, MakeGuid(7)});
  row.Set({PR_LAST_MODIFICATION_TIME, FileTime{1000}});
  row.Set({PR_MESSAGE_FLAGS, int32_t{MSGFLAG_READ | MSGFLAG_UNSENT}});
  row.Set({PR_MV_TEXT, std::vector<std::string>{"alpha", "Beta"}});
  row.Set({PR_MV_BIN, std::vector<Binary>{Binary{"xy"}, Binary{"zz"}}});
  return row;
}

bool Matches(const Restriction& r, const PropertyBag& row = TestRow()) {
  EXPECT_TRUE(ValidateRestriction(r).ok()) << ValidateRestriction(r);
  return MatchesRestriction(r, [&row](ULONG tag) { return row.Find(tag); });
}

SCODE ValidationScode(const Restriction& r) {
  return ScodeOf(ValidateRestriction(r));
}

Restriction Prop(ULONG relop, ULONG tag, PropVariant value) {
  return Restriction::Property(relop, tag, PropValue{tag, std::move(value)});
}

Restriction Nested(size_t levels) {
  Restriction r = Restriction::Exist(PR_SUBJECT);
  for (size_t i = 1; i < levels; ++i) r = Restriction::Not(std::move(r));
  return r;
}

// --- RES_AND / RES_OR / RES_NOT.

TEST(RestrictionTest, AndOrNot) {
  const Restriction yes = Restriction::Exist(PR_SUBJECT);
  const Restriction no = Restriction::Exist(PR_MISSING);
  EXPECT_TRUE(Matches(Restriction::And({})));
  EXPECT_FALSE(Matches(Restriction::Or({})));
  EXPECT_TRUE(Matches(Restriction::And({yes, yes})));
  EXPECT_FALSE(Matches(Restriction::And({yes, no})));
  EXPECT_TRUE(Matches(Restriction::Or({no, yes})));
  EXPECT_FALSE(Matches(Restriction::Or({no, no})));
  EXPECT_TRUE(Matches(Restriction::Not(no)));
  EXPECT_FALSE(Matches(Restriction::Not(yes)));
  EXPECT_TRUE(Matches(Restriction::Not(Restriction::Not(yes))));
}

// --- RES_PROPERTY: every relop on every comparable type.

struct RelopCase {
  ULONG relop;
  bool below, equal, above;  // Row value below / equal / above `value`.
};
constexpr RelopCase kRelops[] = {
    {RELOP_LT, false, false, true}, {RELOP_LE, false, true, true},
    {RELOP_GT, true, false, false}, {RELOP_GE, true, true, false},
    {RELOP_EQ, false, true, false}, {RELOP_NE, true, false, true},
};

// Checks every relop for `tag` whose row value is `row_value`, against a
// smaller, an equal and a larger restriction value.
// `larger` may equal `row_value` (booleans have nothing above true): then
// only the smaller and equal cases are checked.
void CheckRelops(ULONG tag, PropVariant row_value, PropVariant smaller,
                 PropVariant larger) {
  PropertyBag row;
  row.Set({tag, row_value});
  for (const RelopCase& c : kRelops) {
    SCOPED_TRACE(::testing::Message()
                 << "tag " << std::hex << tag << " relop " << c.relop);
    // The row value is above `smaller`, equal to itself, below `larger`.
    EXPECT_EQ(Matches(Prop(c.relop, tag, smaller), row), c.below);
    EXPECT_EQ(Matches(Prop(c.relop, tag, row_value), row), c.equal);
    if (larger != row_value) {
      EXPECT_EQ(Matches(Prop(c.relop, tag, larger), row), c.above);
    }
  }
}

TEST(RestrictionTest, PropertyComparesEveryTypeByValue) {
  CheckRelops(PR_LONG_A, int32_t{0}, int32_t{-5}, int32_t{7});
  CheckRelops(PR_I8_A, int64_t{1} << 40, int64_t{-1}, int64_t{1} << 41);
  CheckRelops(PR_DOUBLE_A, 2.5, -1e300, 2.5000001);
  CheckRelops(PR_LAST_MODIFICATION_TIME, FileTime{1000}, FileTime{999},
              FileTime{~uint64_t{0}});
  CheckRelops(PR_BOOL_A, true, false, true);
  // Binaries byte for byte, unsigned, a prefix first.
  CheckRelops(PR_BIN_A, Binary{"ab"}, Binary{"a"}, Binary{"ab\x80"});
  CheckRelops(PR_BIN_A, Binary{"\x7f"}, Binary{""}, Binary{"\x80"});
  CheckRelops(PR_GUID_A, MakeGuid(7), MakeGuid(6), MakeGuid(0xF0));
  // Strings: by folded value first, then bytes.
  CheckRelops(PR_SUBJECT, std::string("b"), std::string("A"), std::string("C"));
  CheckRelops(PR_SUBJECT, std::string("abc"), std::string("ABC"),
              std::string("abD"));
}

TEST(RestrictionTest, PropertyIsFalseWhenMissingOrOfAnotherType) {
  EXPECT_FALSE(Matches(Prop(RELOP_NE, PR_MISSING, int32_t{1})));
  EXPECT_FALSE(Matches(Prop(RELOP_EQ, PR_MISSING, int32_t{1})));
  // The row has id 0x6601 as PT_LONG, not PT_I8.
  EXPECT_FALSE(Matches(Prop(RELOP_NE, PROP_TAG(PT_I8, 0x6601), int64_t{1})));
  // The value's property id is ignored: only its type must match the tag.
  EXPECT_TRUE(Matches(Restriction::Property(
      RELOP_EQ, PR_LONG_A, PropValue{PROP_TAG(PT_LONG, 0x1234), int32_t{10}})));
}

TEST(RestrictionTest, StringEqualityIsExactButOrderIgnoresCase) {
  // "Hello World" and "hello world" fold equally; the byte order then puts
  // 'H' (0x48) before 'h' (0x68).
  EXPECT_FALSE(Matches(Prop(RELOP_EQ, PR_SUBJECT, std::string("hello world"))));
  EXPECT_TRUE(Matches(Prop(RELOP_LT, PR_SUBJECT, std::string("hello world"))));
  // Folding first: bytes alone would put 'H' (0x48) before 'a' (0x61).
  EXPECT_TRUE(Matches(Prop(RELOP_GT, PR_SUBJECT, std::string("apple"))));
  EXPECT_TRUE(Matches(Prop(RELOP_LT, PR_SUBJECT, std::string("Zebra"))));
  EXPECT_TRUE(Matches(Prop(RELOP_LT, PR_SUBJECT, std::string("zebra"))));
}

// --- RES_COMPAREPROPS.

TEST(RestrictionTest, CompareProps) {
  EXPECT_TRUE(
      Matches(Restriction::CompareProps(RELOP_LT, PR_LONG_A, PR_LONG_B)));
  EXPECT_FALSE(
      Matches(Restriction::CompareProps(RELOP_GE, PR_LONG_A, PR_LONG_B)));
  EXPECT_TRUE(
      Matches(Restriction::CompareProps(RELOP_EQ, PR_LONG_A, PR_LONG_A)));
  // Strings fold equally but differ in bytes: not equal, ordered by bytes.
  EXPECT_FALSE(
      Matches(Restriction::CompareProps(RELOP_EQ, PR_SUBJECT, PR_TEXT_B)));
  EXPECT_TRUE(
      Matches(Restriction::CompareProps(RELOP_LT, PR_SUBJECT, PR_TEXT_B)));
  // Missing: false whatever the relop.
  EXPECT_FALSE(
      Matches(Restriction::CompareProps(RELOP_NE, PR_LONG_A, PR_MISSING)));
  // PT_UNSPECIFIED tags take the row's types; different types: false.
  EXPECT_FALSE(Matches(Restriction::CompareProps(
      RELOP_NE, CHANGE_PROP_TYPE(PR_LONG_A, PT_UNSPECIFIED),
      CHANGE_PROP_TYPE(PR_SUBJECT, PT_UNSPECIFIED))));
  EXPECT_TRUE(Matches(Restriction::CompareProps(
      RELOP_LT, CHANGE_PROP_TYPE(PR_LONG_A, PT_UNSPECIFIED),
      CHANGE_PROP_TYPE(PR_LONG_B, PT_UNSPECIFIED))));
}

// --- RES_CONTENT.

Restriction Content(ULONG fuzzy, ULONG tag, const std::string& text) {
  return Restriction::Content(fuzzy, tag, PropValue{PR_SUBJECT, text});
}

TEST(RestrictionTest, ContentMatchKinds) {
  EXPECT_TRUE(Matches(Content(FL_FULLSTRING, PR_SUBJECT, "Hello World")));
  EXPECT_FALSE(Matches(Content(FL_FULLSTRING, PR_SUBJECT, "Hello")));
  EXPECT_TRUE(Matches(Content(FL_SUBSTRING, PR_SUBJECT, "lo Wo")));
  EXPECT_TRUE(Matches(Content(FL_SUBSTRING, PR_SUBJECT, "")));
  EXPECT_FALSE(Matches(Content(FL_SUBSTRING, PR_SUBJECT, "lo wo")));
  EXPECT_TRUE(Matches(Content(FL_PREFIX, PR_SUBJECT, "Hell")));
  EXPECT_FALSE(Matches(Content(FL_PREFIX, PR_SUBJECT, "World")));
  EXPECT_FALSE(Matches(Content(FL_SUBSTRING, PR_MISSING_TEXT, "")));
}

TEST(RestrictionTest, ContentFoldsCaseWithIgnoreCaseOrLoose) {
  EXPECT_TRUE(
      Matches(Content(FL_SUBSTRING | FL_IGNORECASE, PR_SUBJECT, "LO WO")));
  EXPECT_TRUE(
      Matches(Content(FL_FULLSTRING | FL_LOOSE, PR_SUBJECT, "hello world")));
  EXPECT_TRUE(Matches(Content(FL_PREFIX | FL_IGNORECASE, PR_SUBJECT, "hELL")));
  // FL_IGNORENONSPACE is accepted and changes nothing.
  EXPECT_FALSE(
      Matches(Content(FL_SUBSTRING | FL_IGNORENONSPACE, PR_SUBJECT, "lo wo")));
  EXPECT_TRUE(
      Matches(Content(FL_SUBSTRING | FL_IGNORENONSPACE, PR_SUBJECT, "lo Wo")));
}

TEST(RestrictionTest, ContentFoldsLatin1GreekAndCyrillic) {
  PropertyBag row;
  // "Ÿ ÉTÉ ΣΟΦΊΑ ЖУК Ǆ µ"
  row.Set(
      {PR_SUBJECT, std::string("\xC5\xB8 \xC3\x89T\xC3\x89 "
                               "\xCE\xA3\xCE\x9F\xCE\xA6\xCE\x8A\xCE\x91 "
                               "\xD0\x96\xD0\xA3\xD0\x9A \xC7\x84 \xC2\xB5")});
  const ULONG fold = FL_SUBSTRING | FL_IGNORECASE;
  // "ÿ été"
  EXPECT_TRUE(
      Matches(Content(fold, PR_SUBJECT, "\xC3\xBF \xC3\xA9t\xC3\xA9"), row));
  EXPECT_FALSE(Matches(
      Content(FL_SUBSTRING, PR_SUBJECT, "\xC3\xBF \xC3\xA9t\xC3\xA9"), row));
  // "σοφία" (with the final-sigma-free lower forms).
  EXPECT_TRUE(Matches(
      Content(fold, PR_SUBJECT, "\xCF\x83\xCE\xBF\xCF\x86\xCE\xAF\xCE\xB1"),
      row));
  // "жук"
  EXPECT_TRUE(
      Matches(Content(fold, PR_SUBJECT, "\xD0\xB6\xD1\x83\xD0\xBA"), row));
  // "ǆ" (U+01C6) and Greek mu for the micro sign.
  EXPECT_TRUE(Matches(Content(fold, PR_SUBJECT, "\xC7\x86 \xCE\xBC"), row));
  // Final sigma folds to sigma.
  PropertyBag sigma;
  sigma.Set({PR_SUBJECT, std::string("\xCF\x82")});
  EXPECT_TRUE(Matches(
      Content(FL_FULLSTRING | FL_IGNORECASE, PR_SUBJECT, "\xCE\xA3"), sigma));
}

TEST(RestrictionTest, ContentOnBinariesAndMultiValued) {
  const auto bin = [](ULONG fuzzy, ULONG tag, std::string bytes) {
    return Restriction::Content(fuzzy, tag,
                                PropValue{PR_BIN_A, Binary{std::move(bytes)}});
  };
  EXPECT_TRUE(Matches(bin(FL_FULLSTRING, PR_BIN_A, "\x01\x02\x03")));
  EXPECT_TRUE(Matches(bin(FL_PREFIX, PR_BIN_A, "\x01\x02")));
  EXPECT_TRUE(Matches(bin(FL_SUBSTRING, PR_BIN_A, "\x02\x03")));
  EXPECT_FALSE(Matches(bin(FL_PREFIX, PR_BIN_A, "\x02")));
  EXPECT_TRUE(Matches(bin(FL_FULLSTRING, PR_MV_BIN, "zz")));
  EXPECT_FALSE(Matches(bin(FL_FULLSTRING, PR_MV_BIN, "z")));
  EXPECT_TRUE(Matches(Content(FL_PREFIX | FL_IGNORECASE, PR_MV_TEXT, "BET")));
  EXPECT_FALSE(Matches(Content(FL_PREFIX, PR_MV_TEXT, "bet")));
  EXPECT_TRUE(Matches(Content(FL_FULLSTRING, PR_MV_TEXT, "alpha")));
}

// --- RES_BITMASK, RES_EXIST, RES_SIZE.

TEST(RestrictionTest, Bitmask) {
  EXPECT_TRUE(
      Matches(Restriction::Bitmask(BMR_NEZ, PR_MESSAGE_FLAGS, MSGFLAG_READ)));
  EXPECT_FALSE(
      Matches(Restriction::Bitmask(BMR_EQZ, PR_MESSAGE_FLAGS, MSGFLAG_READ)));
  EXPECT_TRUE(Matches(
      Restriction::Bitmask(BMR_EQZ, PR_MESSAGE_FLAGS, MSGFLAG_HASATTACH)));
  EXPECT_FALSE(Matches(Restriction::Bitmask(BMR_EQZ, PR_MISSING, 1)));
  EXPECT_FALSE(Matches(Restriction::Bitmask(BMR_NEZ, PR_MISSING, 1)));
}

TEST(RestrictionTest, Exist) {
  EXPECT_TRUE(Matches(Restriction::Exist(PR_LONG_A)));
  EXPECT_TRUE(
      Matches(Restriction::Exist(CHANGE_PROP_TYPE(PR_LONG_A, PT_UNSPECIFIED))));
  EXPECT_FALSE(
      Matches(Restriction::Exist(CHANGE_PROP_TYPE(PR_LONG_A, PT_UNICODE))));
  EXPECT_FALSE(Matches(Restriction::Exist(PR_MISSING)));
}

TEST(RestrictionTest, Size) {
  // "Hello World": 11 bytes -> 2 * 12 = 24.
  EXPECT_TRUE(Matches(Restriction::Size(RELOP_EQ, PR_SUBJECT, 24)));
  EXPECT_TRUE(Matches(Restriction::Size(RELOP_GT, PR_SUBJECT, 23)));
  EXPECT_FALSE(Matches(Restriction::Size(RELOP_LT, PR_SUBJECT, 24)));
  EXPECT_TRUE(Matches(Restriction::Size(RELOP_EQ, PR_LONG_A, 4)));
  EXPECT_TRUE(Matches(Restriction::Size(RELOP_LE, PR_BIN_A, 3)));
  EXPECT_TRUE(Matches(Restriction::Size(
      RELOP_EQ, CHANGE_PROP_TYPE(PR_GUID_A, PT_UNSPECIFIED), 16)));
  EXPECT_FALSE(Matches(Restriction::Size(RELOP_NE, PR_MISSING, 4)));
}

// --- Validation.

TEST(RestrictionValidationTest, MalformedIsInvalidParameter) {
  Restriction unknown_type;
  unknown_type.type = 99;
  EXPECT_EQ(ValidationScode(unknown_type), MAPI_E_INVALID_PARAMETER);
  EXPECT_EQ(ValidationScode(Prop(7, PR_LONG_A, int32_t{1})),
            MAPI_E_INVALID_PARAMETER);
  EXPECT_EQ(ValidationScode(Restriction::Size(42, PR_LONG_A, 1)),
            MAPI_E_INVALID_PARAMETER);
  EXPECT_EQ(ValidationScode(Restriction::CompareProps(9, PR_LONG_A, PR_LONG_B)),
            MAPI_E_INVALID_PARAMETER);
  Restriction empty_not;
  empty_not.type = RES_NOT;
  EXPECT_EQ(ValidationScode(empty_not), MAPI_E_INVALID_PARAMETER);
  Restriction two_not = Restriction::Not(Restriction::Exist(PR_LONG_A));
  two_not.children.push_back(Restriction::Exist(PR_LONG_A));
  EXPECT_EQ(ValidationScode(two_not), MAPI_E_INVALID_PARAMETER);
  // Tag / value type mismatch.
  EXPECT_EQ(ValidationScode(Restriction::Property(
                RELOP_EQ, PR_LONG_A, PropValue{PR_I8_A, int64_t{1}})),
            MAPI_E_INVALID_PARAMETER);
  // Multi-valued, PT_ERROR, PT_NULL, PT_UNSPECIFIED values.
  EXPECT_EQ(ValidationScode(
                Prop(RELOP_EQ, PR_MV_TEXT, std::vector<std::string>{"a"})),
            MAPI_E_INVALID_PARAMETER);
  EXPECT_EQ(ValidationScode(
                Prop(RELOP_EQ, PROP_TAG(PT_ERROR, 0x6601), ErrorValue{1})),
            MAPI_E_INVALID_PARAMETER);
  EXPECT_EQ(
      ValidationScode(Restriction::Property(RELOP_EQ, PR_NULL, PropValue{})),
      MAPI_E_INVALID_PARAMETER);
  EXPECT_EQ(ValidationScode(Restriction::Property(
                RELOP_EQ, PROP_TAG(PT_UNSPECIFIED, 0x6601),
                PropValue{PROP_TAG(PT_UNSPECIFIED, 0x6601), {}})),
            MAPI_E_INVALID_PARAMETER);
  // A value whose alternative disagrees with its tag.
  EXPECT_EQ(ValidationScode(Restriction::Property(
                RELOP_EQ, PR_LONG_A, PropValue{PR_LONG_A, std::string("x")})),
            MAPI_E_INVALID_PARAMETER);
  // Content: value type, tag type, fuzzy level, modifiers.
  EXPECT_EQ(ValidationScode(Restriction::Content(
                FL_FULLSTRING, PR_LONG_A, PropValue{PR_LONG_A, int32_t{1}})),
            MAPI_E_INVALID_PARAMETER);
  EXPECT_EQ(ValidationScode(Content(FL_FULLSTRING, PR_BIN_A, "x")),
            MAPI_E_INVALID_PARAMETER);
  EXPECT_EQ(ValidationScode(Content(3, PR_SUBJECT, "x")),
            MAPI_E_INVALID_PARAMETER);
  EXPECT_EQ(
      ValidationScode(Content(FL_SUBSTRING | 0x00080000, PR_SUBJECT, "x")),
      MAPI_E_INVALID_PARAMETER);
  // Bitmask: relation and tag type.
  EXPECT_EQ(ValidationScode(Restriction::Bitmask(2, PR_MESSAGE_FLAGS, 1)),
            MAPI_E_INVALID_PARAMETER);
  EXPECT_EQ(ValidationScode(Restriction::Bitmask(BMR_EQZ, PR_I8_A, 1)),
            MAPI_E_INVALID_PARAMETER);
  // Found deep inside an otherwise valid tree.
  EXPECT_EQ(ValidationScode(Restriction::And(
                {Restriction::Exist(PR_LONG_A),
                 Restriction::Or({Restriction::Not(empty_not)})})),
            MAPI_E_INVALID_PARAMETER);
}

TEST(RestrictionValidationTest, AcceptsEveryWellFormedKind) {
  for (const Restriction& r :
       {Restriction::And({}), Restriction::Or({}),
        Restriction::Not(Restriction::And({})), Prop(RELOP_NE, PR_BOOL_A, true),
        Restriction::CompareProps(RELOP_GE, PR_LONG_A, PR_SUBJECT),
        Content(FL_PREFIX | FL_IGNORECASE | FL_IGNORENONSPACE | FL_LOOSE,
                PR_MV_TEXT, "x"),
        Restriction::Bitmask(BMR_NEZ, PR_LONG_A, 0xFFFFFFFF),
        Restriction::Exist(PR_NULL),
        Restriction::Size(RELOP_GE, PR_BIN_A, 0)}) {
    EXPECT_TRUE(ValidateRestriction(r).ok()) << ValidateRestriction(r);
  }
}

TEST(RestrictionValidationTest, RegularExpressionsAreTooComplex) {
  EXPECT_EQ(ValidationScode(Prop(RELOP_RE, PR_SUBJECT, std::string("a.*"))),
            MAPI_E_TOO_COMPLEX);
  EXPECT_EQ(ValidationScode(
                Restriction::CompareProps(RELOP_RE, PR_LONG_A, PR_LONG_B)),
            MAPI_E_TOO_COMPLEX);
  EXPECT_EQ(ValidationScode(Restriction::Size(RELOP_RE, PR_LONG_A, 1)),
            MAPI_E_TOO_COMPLEX);
}

TEST(RestrictionValidationTest, DepthLimit) {
  EXPECT_TRUE(ValidateRestriction(Nested(kMaxRestrictionDepth)).ok());
  EXPECT_TRUE(Matches(Nested(kMaxRestrictionDepth)) ==
              (kMaxRestrictionDepth % 2 == 1));
  EXPECT_EQ(ValidationScode(Nested(kMaxRestrictionDepth + 1)),
            MAPI_E_TOO_COMPLEX);
  // Hostile nesting: rejected at the limit, without walking all of it.
  EXPECT_EQ(ValidationScode(Nested(5000)), MAPI_E_TOO_COMPLEX);
  // The limits come before malformed nodes.
  Restriction deep_and_bad;
  deep_and_bad.type = 99;
  for (size_t i = 0; i < kMaxRestrictionDepth; ++i) {
    deep_and_bad = Restriction::Not(std::move(deep_and_bad));
  }
  EXPECT_EQ(ValidationScode(deep_and_bad), MAPI_E_TOO_COMPLEX);
  // An unknown type's children are not walked.
  Restriction unknown;
  unknown.type = 99;
  unknown.children.push_back(Nested(5000));
  EXPECT_EQ(ValidationScode(unknown), MAPI_E_INVALID_PARAMETER);
}

TEST(RestrictionValidationTest, NodeLimit) {
  // One AND plus children: kMaxRestrictionNodes in all is fine.
  std::vector<Restriction> children(kMaxRestrictionNodes - 1,
                                    Restriction::Exist(PR_LONG_A));
  EXPECT_TRUE(ValidateRestriction(Restriction::And(children)).ok());
  children.push_back(Restriction::Exist(PR_LONG_A));
  EXPECT_EQ(ValidationScode(Restriction::And(children)), MAPI_E_TOO_COMPLEX);
  // Children of leaf nodes are not part of the restriction.
  Restriction leaf = Restriction::Exist(PR_LONG_A);
  leaf.children.assign(2 * kMaxRestrictionNodes, Restriction());
  EXPECT_TRUE(ValidateRestriction(leaf).ok());
}

// --- Sort orders.

TEST(SortOrderValidationTest, LimitsAndMalformedKeys) {
  SortOrderSet sort(kMaxSortKeys, SortOrder{PR_SUBJECT, TABLE_SORT_DESCEND});
  EXPECT_TRUE(ValidateSortOrder(sort).ok());
  EXPECT_TRUE(ValidateSortOrder({}).ok());
  sort.push_back(SortOrder{PR_SUBJECT, TABLE_SORT_ASCEND});
  EXPECT_EQ(ScodeOf(ValidateSortOrder(sort)), MAPI_E_TOO_COMPLEX);
  EXPECT_EQ(ScodeOf(ValidateSortOrder({{PR_MV_TEXT, TABLE_SORT_ASCEND}})),
            MAPI_E_TOO_COMPLEX);
  EXPECT_EQ(ScodeOf(ValidateSortOrder({{PR_SUBJECT, 2}})),
            MAPI_E_INVALID_PARAMETER);
}

// --- Comparison and folding.

TEST(CompareValuesTest, TotalOrderAcrossTypesAndSpecialValues) {
  const PropValue l{PR_LONG_A, int32_t{5}};
  const PropValue s{PR_SUBJECT, std::string("a")};
  EXPECT_LT(CompareValues(l, s), 0);  // PT_LONG (3) before PT_UNICODE (0x1F).
  EXPECT_GT(CompareValues(s, l), 0);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const PropValue big{PR_DOUBLE_A, 1e308};
  const PropValue not_a_number{PR_DOUBLE_A, nan};
  EXPECT_LT(CompareValues(big, not_a_number), 0);
  EXPECT_EQ(CompareValues(not_a_number, not_a_number), 0);
  EXPECT_EQ(
      CompareValues(PropValue{PR_DOUBLE_A, 0.0}, PropValue{PR_DOUBLE_A, -0.0}),
      0);
  // Multi-valued: element by element, a prefix first.
  const PropValue a{PR_MV_TEXT, std::vector<std::string>{"a", "b"}};
  const PropValue ab{PR_MV_TEXT, std::vector<std::string>{"a", "b", "c"}};
  const PropValue b{PR_MV_TEXT, std::vector<std::string>{"B"}};
  EXPECT_LT(CompareValues(a, ab), 0);
  EXPECT_LT(CompareValues(ab, b), 0);
  EXPECT_EQ(CompareValues(ab, ab), 0);
}

TEST(CaseFoldTest, FoldsTheCoveredScriptsAndNothingElse) {
  EXPECT_EQ(FoldCodePoint('A'), uint32_t{'a'});
  EXPECT_EQ(FoldCodePoint('z'), uint32_t{'z'});
  EXPECT_EQ(FoldCodePoint('@'), uint32_t{'@'});
  EXPECT_EQ(FoldCodePoint(0x00C0), 0x00E0u);  // À
  EXPECT_EQ(FoldCodePoint(0x00D7), 0x00D7u);  // × is no letter
  EXPECT_EQ(FoldCodePoint(0x00DF), 0x00DFu);  // ß: no simple folding
  EXPECT_EQ(FoldCodePoint(0x0130), 0x0130u);  // İ: no simple folding
  EXPECT_EQ(FoldCodePoint(0x0178), 0x00FFu);  // Ÿ
  EXPECT_EQ(FoldCodePoint(0x017F), uint32_t{'s'});
  EXPECT_EQ(FoldCodePoint(0x01C4), 0x01C6u);  // Ǆ
  EXPECT_EQ(FoldCodePoint(0x01C5), 0x01C6u);  // ǅ
  EXPECT_EQ(FoldCodePoint(0x023A), 0x2C65u);  // Ⱥ -> ⱥ (three bytes)
  EXPECT_EQ(FoldCodePoint(0x0386), 0x03ACu);  // Ά
  EXPECT_EQ(FoldCodePoint(0x03C2), 0x03C3u);  // ς
  EXPECT_EQ(FoldCodePoint(0x03D1), 0x03B8u);  // ϑ
  EXPECT_EQ(FoldCodePoint(0x0400), 0x0450u);  // Ѐ
  EXPECT_EQ(FoldCodePoint(0x042F), 0x044Fu);  // Я
  EXPECT_EQ(FoldCodePoint(0x04C0), 0x04CFu);  // Ӏ
  EXPECT_EQ(FoldCodePoint(0x052E), 0x052Fu);
  EXPECT_EQ(FoldCodePoint(0x1E9E), 0x1E9Eu);  // Outside the covered range.
  EXPECT_EQ(FoldCodePoint(0x0041 + 0x10000), 0x10041u);
  // Folding is idempotent and maps onto code points that fold to
  // themselves.
  for (uint32_t cp = 0; cp <= 0x052F; ++cp) {
    EXPECT_EQ(FoldCodePoint(FoldCodePoint(cp)), FoldCodePoint(cp)) << cp;
  }
}

TEST(CaseFoldTest, FoldCaseWalksUtf8AndKeepsOtherBytes) {
  EXPECT_EQ(FoldCase("MiXeD 123"), "mixed 123");
  EXPECT_EQ(FoldCase("\xC3\x89T\xC3\x89"), "\xC3\xA9t\xC3\xA9");  // ÉTÉ
  EXPECT_EQ(FoldCase("\xC8\xBA"), "\xE2\xB1\xA5");                // Ⱥ -> ⱥ
  EXPECT_EQ(FoldCase("\xC5\xBF"), "s");                           // ſ
  // Three-byte sequences, stray continuation bytes, truncated and invalid
  // leads are copied as they are.
  EXPECT_EQ(FoldCase("\xE2\x82\xAC"
                     "A"),
            "\xE2\x82\xAC"
            "a");
  EXPECT_EQ(FoldCase("\x80\xBF"
                     "B"),
            "\x80\xBF"
            "b");
  EXPECT_EQ(FoldCase("C\xC3"), "c\xC3");
  EXPECT_EQ(FoldCase("\xC3"
                     "D"),
            "\xC3"
            "d");
  EXPECT_EQ(FoldCase("\xC0\x81\xFF"), "\xC0\x81\xFF");
  EXPECT_EQ(FoldCase(""), "");
}

}  // namespace
}  // namespace mapinotify::server::store
