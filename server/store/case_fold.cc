// Case folding: the folding table as runs, and a UTF-8 walk that folds the
// one- and two-byte sequences (every code point the table covers is below
// U+0800; a few fold to three-byte ones, e.g. U+023A -> U+2C65).
#include "server/store/case_fold.h"

#include <algorithm>
#include <iterator>

namespace mapinotify::server::store {
namespace {

// Code points first..last, every `step`-th one, fold to code point + delta.
struct FoldRun {
  uint16_t first;
  uint16_t last;
  uint8_t step;
  int32_t delta;
};

// Generated from CaseFolding.txt (status C, U+0000..U+052F), ascending.
constexpr FoldRun kFoldRuns[] = {
    {0x0041, 0x005A, 1, 32},    {0x00B5, 0x00B5, 1, 775},
    {0x00C0, 0x00D6, 1, 32},    {0x00D8, 0x00DE, 1, 32},
    {0x0100, 0x012E, 2, 1},     {0x0132, 0x0136, 2, 1},
    {0x0139, 0x0147, 2, 1},     {0x014A, 0x0176, 2, 1},
    {0x0178, 0x0178, 1, -121},  {0x0179, 0x017D, 2, 1},
    {0x017F, 0x017F, 1, -268},  {0x0181, 0x0181, 1, 210},
    {0x0182, 0x0184, 2, 1},     {0x0186, 0x0186, 1, 206},
    {0x0187, 0x0187, 1, 1},     {0x0189, 0x018A, 1, 205},
    {0x018B, 0x018B, 1, 1},     {0x018E, 0x018E, 1, 79},
    {0x018F, 0x018F, 1, 202},   {0x0190, 0x0190, 1, 203},
    {0x0191, 0x0191, 1, 1},     {0x0193, 0x0193, 1, 205},
    {0x0194, 0x0194, 1, 207},   {0x0196, 0x0196, 1, 211},
    {0x0197, 0x0197, 1, 209},   {0x0198, 0x0198, 1, 1},
    {0x019C, 0x019C, 1, 211},   {0x019D, 0x019D, 1, 213},
    {0x019F, 0x019F, 1, 214},   {0x01A0, 0x01A4, 2, 1},
    {0x01A6, 0x01A6, 1, 218},   {0x01A7, 0x01A7, 1, 1},
    {0x01A9, 0x01A9, 1, 218},   {0x01AC, 0x01AC, 1, 1},
    {0x01AE, 0x01AE, 1, 218},   {0x01AF, 0x01AF, 1, 1},
    {0x01B1, 0x01B2, 1, 217},   {0x01B3, 0x01B5, 2, 1},
    {0x01B7, 0x01B7, 1, 219},   {0x01B8, 0x01B8, 1, 1},
    {0x01BC, 0x01BC, 1, 1},     {0x01C4, 0x01C4, 1, 2},
    {0x01C5, 0x01C5, 1, 1},     {0x01C7, 0x01C7, 1, 2},
    {0x01C8, 0x01C8, 1, 1},     {0x01CA, 0x01CA, 1, 2},
    {0x01CB, 0x01DB, 2, 1},     {0x01DE, 0x01EE, 2, 1},
    {0x01F1, 0x01F1, 1, 2},     {0x01F2, 0x01F4, 2, 1},
    {0x01F6, 0x01F6, 1, -97},   {0x01F7, 0x01F7, 1, -56},
    {0x01F8, 0x021E, 2, 1},     {0x0220, 0x0220, 1, -130},
    {0x0222, 0x0232, 2, 1},     {0x023A, 0x023A, 1, 10795},
    {0x023B, 0x023B, 1, 1},     {0x023D, 0x023D, 1, -163},
    {0x023E, 0x023E, 1, 10792}, {0x0241, 0x0241, 1, 1},
    {0x0243, 0x0243, 1, -195},  {0x0244, 0x0244, 1, 69},
    {0x0245, 0x0245, 1, 71},    {0x0246, 0x024E, 2, 1},
    {0x0345, 0x0345, 1, 116},   {0x0370, 0x0372, 2, 1},
    {0x0376, 0x0376, 1, 1},     {0x037F, 0x037F, 1, 116},
    {0x0386, 0x0386, 1, 38},    {0x0388, 0x038A, 1, 37},
    {0x038C, 0x038C, 1, 64},    {0x038E, 0x038F, 1, 63},
    {0x0391, 0x03A1, 1, 32},    {0x03A3, 0x03AB, 1, 32},
    {0x03C2, 0x03C2, 1, 1},     {0x03CF, 0x03CF, 1, 8},
    {0x03D0, 0x03D0, 1, -30},   {0x03D1, 0x03D1, 1, -25},
    {0x03D5, 0x03D5, 1, -15},   {0x03D6, 0x03D6, 1, -22},
    {0x03D8, 0x03EE, 2, 1},     {0x03F0, 0x03F0, 1, -54},
    {0x03F1, 0x03F1, 1, -48},   {0x03F4, 0x03F4, 1, -60},
    {0x03F5, 0x03F5, 1, -64},   {0x03F7, 0x03F7, 1, 1},
    {0x03F9, 0x03F9, 1, -7},    {0x03FA, 0x03FA, 1, 1},
    {0x03FD, 0x03FF, 1, -130},  {0x0400, 0x040F, 1, 80},
    {0x0410, 0x042F, 1, 32},    {0x0460, 0x0480, 2, 1},
    {0x048A, 0x04BE, 2, 1},     {0x04C0, 0x04C0, 1, 15},
    {0x04C1, 0x04CD, 2, 1},     {0x04D0, 0x052E, 2, 1},
};

constexpr uint32_t kLastFolded = 0x052F;

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace

uint32_t FoldCodePoint(uint32_t code_point) {
  if (code_point > kLastFolded) return code_point;
  // The last run starting at or before code_point.
  const FoldRun* run = std::upper_bound(
      std::begin(kFoldRuns), std::end(kFoldRuns), code_point,
      [](uint32_t cp, const FoldRun& r) { return cp < r.first; });
  if (run == std::begin(kFoldRuns)) return code_point;
  --run;
  if (code_point > run->last || (code_point - run->first) % run->step != 0) {
    return code_point;
  }
  return static_cast<uint32_t>(static_cast<int32_t>(code_point) + run->delta);
}

std::string FoldCase(absl::string_view utf8) {
  std::string out;
  out.reserve(utf8.size());
  for (size_t i = 0; i < utf8.size(); ++i) {
    const auto byte = static_cast<unsigned char>(utf8[i]);
    if (byte < 0x80) {
      out.push_back(static_cast<char>(FoldCodePoint(byte)));
      continue;
    }
    // A two-byte sequence: lead C2..DF, then one continuation byte.
    if (byte >= 0xC2 && byte <= 0xDF && i + 1 < utf8.size()) {
      const auto next = static_cast<unsigned char>(utf8[i + 1]);
      if ((next & 0xC0) == 0x80) {
        const uint32_t cp = ((byte & 0x1Fu) << 6) | (next & 0x3Fu);
        AppendUtf8(FoldCodePoint(cp), &out);
        ++i;
        continue;
      }
    }
    out.push_back(static_cast<char>(byte));
  }
  return out;
}

}  // namespace mapinotify::server::store
