#include "server/hub/target_key.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "mapinotify/v1/notifications.pb.h"

namespace mapinotify::server {
namespace {

constexpr char kStoreTag = 's';
constexpr char kEntryTag = 'e';
constexpr char kTableTag = 't';
constexpr size_t kTableKeySize = 1 + 8;

}  // namespace

TargetKey StoreTargetKey() { return TargetKey(1, kStoreTag); }

TargetKey EntryTargetKey(absl::string_view entry_id) {
  TargetKey key;
  key.reserve(1 + entry_id.size());
  key.push_back(kEntryTag);
  key.append(entry_id.data(), entry_id.size());
  return key;
}

TargetKey TableTargetKey(uint64_t view) {
  TargetKey key(kTableKeySize, '\0');
  key[0] = kTableTag;
  for (int i = 0; i < 8; ++i) {
    key[1 + i] = static_cast<char>((view >> (56 - 8 * i)) & 0xFF);
  }
  return key;
}

TargetKind GetTargetKind(absl::string_view key) {
  if (key.empty()) return TargetKind::kMalformed;
  switch (key[0]) {
    case kStoreTag:
      return key.size() == 1 ? TargetKind::kStore : TargetKind::kMalformed;
    case kEntryTag:
      return TargetKind::kEntry;
    case kTableTag:
      return key.size() == kTableKeySize ? TargetKind::kTable
                                         : TargetKind::kMalformed;
    default:
      return TargetKind::kMalformed;
  }
}

absl::string_view TargetEntryId(absl::string_view key) { return key.substr(1); }

uint64_t TargetTableView(absl::string_view key) {
  uint64_t view = 0;
  for (size_t i = 1; i < kTableKeySize && i < key.size(); ++i) {
    view = (view << 8) | static_cast<unsigned char>(key[i]);
  }
  return view;
}

std::string DescribeTargetKey(absl::string_view key) {
  switch (GetTargetKind(key)) {
    case TargetKind::kStore:
      return "store";
    case TargetKind::kEntry:
      return absl::StrCat("entry ", absl::BytesToHexString(TargetEntryId(key)));
    case TargetKind::kTable:
      return absl::StrCat("table view ", TargetTableView(key));
    case TargetKind::kMalformed:
      break;
  }
  return "malformed target";
}

absl::StatusOr<TargetKey> TargetKeyFromProto(const v1::Target& target) {
  switch (target.kind_case()) {
    case v1::Target::kStore:
      return StoreTargetKey();
    case v1::Target::kEntryId:
      return EntryTargetKey(target.entry_id());
    case v1::Target::kTableView:
      return TableTargetKey(target.table_view());
    case v1::Target::KIND_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError("advise target has no kind set");
}

absl::Status DefaultTargetValidator(const TargetKey& key) {
  switch (GetTargetKind(key)) {
    case TargetKind::kStore:
      return absl::OkStatus();
    case TargetKind::kEntry:
      if (TargetEntryId(key).empty()) {
        return absl::InvalidArgumentError("empty entry id");
      }
      return absl::OkStatus();
    case TargetKind::kTable:
      return absl::NotFoundError(
          absl::StrCat("unknown ", DescribeTargetKey(key)));
    case TargetKind::kMalformed:
      break;
  }
  return absl::InvalidArgumentError("malformed target");
}

}  // namespace mapinotify::server
