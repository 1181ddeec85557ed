#include "sql/key_watermarks.h"

#include <functional>
#include <optional>

#include "storage/storage.h"

namespace kalamdb::sql {

KeyWatermarks::KeyWatermarks(storage::Store& store, size_t max_prefixes)
    : store_(store), max_prefixes_(max_prefixes) {}

std::unique_lock<std::mutex> KeyWatermarks::LockPrefix(std::string_view prefix) {
  const size_t stripe = std::hash<std::string_view>{}(prefix) % prefix_locks_.size();
  return std::unique_lock<std::mutex>(prefix_locks_[stripe]);
}

Status KeyWatermarks::Claim(std::string_view prefix, std::string_view max_key,
                            std::string* before) {
  std::unique_lock lock(mu_);
  auto it = highest_.find(prefix);
  if (it == highest_.end()) {
    if (highest_.size() >= max_prefixes_) {
      // Full: this prefix is not tracked, and every key of the statement is looked up. (Never
      // evict: an entry dropped while a statement that raised it has not written yet would be
      // re-read from the store too low, and the keys written after it would escape lookups.)
      before->assign(max_key);
      return Status::OK();
    }
    // First claim: the highest stored key, read outside the lock. Writes that land meanwhile
    // are by statements that claimed first and raised the entry themselves (taken below).
    lock.unlock();
    auto stored = store_.LastKeyWithPrefix(storage::Family::kRows, prefix);
    if (!stored.ok()) return stored.status();
    lock.lock();
    if (highest_.size() >= max_prefixes_ && highest_.find(prefix) == highest_.end()) {
      before->assign(max_key);
      return Status::OK();
    }
    it = highest_.try_emplace(std::string(prefix), stored->value_or(std::string())).first;
    if (stored->has_value() && **stored > it->second) it->second = **stored;
  }
  before->assign(it->second);
  if (max_key > it->second) it->second.assign(max_key);
  return Status::OK();
}

}  // namespace kalamdb::sql
