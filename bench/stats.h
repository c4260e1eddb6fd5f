// Small statistics for the benchmark: a latency histogram that can be sent
// between processes as one line and merged, and the median of runs.
// Thread-compatible values.
#ifndef MAPINOTIFY_BENCH_STATS_H_
#define MAPINOTIFY_BENCH_STATS_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace mapinotify::bench {

// A log-linear histogram of non-negative nanosecond values: exact below 64,
// then 64 buckets per power of two (at most 1.6% relative error), up to
// about 2^42 ns (73 minutes; larger values land in the last bucket).
class Histogram {
 public:
  Histogram() : counts_(kBuckets, 0) {}

  void Add(int64_t ns) {
    ++counts_[Index(ns < 0 ? 0 : static_cast<uint64_t>(ns))];
    ++total_;
  }
  void Merge(const Histogram& other) {
    for (size_t i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
    total_ += other.total_;
  }
  uint64_t total() const { return total_; }

  // The value at quantile `q` (0 < q <= 1) in nanoseconds (the middle of
  // its bucket); 0 when empty.
  double Quantile(double q) const {
    if (total_ == 0) return 0;
    uint64_t rank = static_cast<uint64_t>(q * static_cast<double>(total_));
    if (rank < 1) rank = 1;
    if (rank > total_) rank = total_;
    uint64_t seen = 0;
    for (size_t i = 0; i < kBuckets; ++i) {
      seen += counts_[i];
      if (seen >= rank) return (Low(i) + Low(i + 1)) / 2.0;
    }
    return Low(kBuckets);
  }

  // "idx:count,idx:count,..." of the non-empty buckets ("-" when empty).
  std::string Serialize() const {
    std::string out;
    for (size_t i = 0; i < kBuckets; ++i) {
      if (counts_[i] == 0) continue;
      if (!out.empty()) out.push_back(',');
      absl::StrAppend(&out, i, ":", counts_[i]);
    }
    return out.empty() ? "-" : out;
  }
  // Adds what Serialize() wrote; false (and unchanged totals for the bad
  // part) on malformed input.
  bool MergeSerialized(absl::string_view text) {
    if (text == "-") return true;
    for (absl::string_view pair : absl::StrSplit(text, ',')) {
      std::pair<absl::string_view, absl::string_view> kv =
          absl::StrSplit(pair, absl::MaxSplits(':', 1));
      size_t index = 0;
      uint64_t count = 0;
      if (!absl::SimpleAtoi(kv.first, &index) ||
          !absl::SimpleAtoi(kv.second, &count) || index >= kBuckets) {
        return false;
      }
      counts_[index] += count;
      total_ += count;
    }
    return true;
  }

 private:
  static constexpr int kSubBits = 6;  // 64 buckets per power of two.
  static constexpr size_t kBuckets = (42 - kSubBits + 1) << kSubBits;

  static size_t Index(uint64_t v) {
    if (v < (uint64_t{1} << kSubBits)) return static_cast<size_t>(v);
    const int exp = 63 - __builtin_clzll(v);  // >= kSubBits.
    const size_t sub = (v >> (exp - kSubBits)) & ((1u << kSubBits) - 1);
    const size_t i =
        (static_cast<size_t>(exp - kSubBits + 1) << kSubBits) + sub;
    return std::min(i, kBuckets - 1);
  }
  // The smallest value of bucket i (i may be kBuckets: the end).
  static double Low(size_t i) {
    if (i < (size_t{1} << kSubBits)) return static_cast<double>(i);
    const int exp = static_cast<int>(i >> kSubBits) + kSubBits - 1;
    const uint64_t sub = i & ((1u << kSubBits) - 1);
    return static_cast<double>(((uint64_t{1} << kSubBits) + sub)
                               << (exp - kSubBits));
  }

  std::vector<uint64_t> counts_;
  uint64_t total_ = 0;
};

// The median of `values` (the mean of the middle two for an even count);
// 0 when empty.
inline double Median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

}  // namespace mapinotify::bench

#endif  // MAPINOTIFY_BENCH_STATS_H_
