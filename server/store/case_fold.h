// Simple Unicode case folding for the store's string comparisons (table
// restrictions and sorting, see mapinotify/table_types.h). Stateless;
// thread-safe.
#ifndef MAPINOTIFY_SERVER_STORE_CASE_FOLD_H_
#define MAPINOTIFY_SERVER_STORE_CASE_FOLD_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace mapinotify::server::store {

// The simple case folding (Unicode 14 CaseFolding.txt, status C: one code
// point to one code point) of `code_point` when it lies in U+0000..U+052F
// (Basic Latin, Latin-1 Supplement, Latin Extended-A and -B, IPA
// Extensions, combining U+0345, Greek and Coptic, Cyrillic, Cyrillic
// Supplement); every other code point is returned unchanged. Examples:
// 'A' -> 'a', U+00C9 -> U+00E9, U+03A3 and U+03C2 -> U+03C3, U+0416 ->
// U+0436, U+00B5 -> U+03BC, U+017F -> 's'. Letters without a simple
// folding (U+00DF, U+0130) stay as they are.
uint32_t FoldCodePoint(uint32_t code_point);

// `utf8` with every code point folded by FoldCodePoint. Bytes that are not
// part of a well-formed one- or two-byte UTF-8 sequence (longer sequences,
// stray or invalid bytes) are copied unchanged, so any input is accepted
// and equal inputs fold equally.
std::string FoldCase(absl::string_view utf8);

}  // namespace mapinotify::server::store

#endif  // MAPINOTIFY_SERVER_STORE_CASE_FOLD_H_
