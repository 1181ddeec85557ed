#include "sql/key_watermarks.h"

#include <optional>

#include "storage/storage.h"

namespace kalamdb::sql {

KeyWatermarks::KeyWatermarks(storage::Store& store, size_t max_prefixes)
    : store_(store), max_prefixes_(max_prefixes) {}

Status KeyWatermarks::Claim(std::string_view prefix, std::string_view max_key,
                            std::string* before) {
  std::unique_lock lock(mu_);
  auto it = highest_.find(std::string(prefix));
  if (it == highest_.end()) {
    // First claim: the highest stored key, read outside the lock. Writes that land meanwhile
    // are by statements that claimed first and raised the entry themselves (taken below).
    lock.unlock();
    auto stored = store_.LastKeyWithPrefix(storage::Family::kRows, prefix);
    if (!stored.ok()) return stored.status();
    lock.lock();
    if (highest_.size() >= max_prefixes_) highest_.clear();
    it = highest_.try_emplace(std::string(prefix), stored->value_or(std::string())).first;
    if (stored->has_value() && **stored > it->second) it->second = **stored;
  }
  before->assign(it->second);
  if (max_key > it->second) it->second.assign(max_key);
  return Status::OK();
}

}  // namespace kalamdb::sql
