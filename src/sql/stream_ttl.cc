// stream_ttl.cc: physical removal of expired STREAM rows. Reads already hide them (scan.cc);
// this reclaims the space. Runs on the server's maintenance thread, never on a request thread.
#include "common/clock.h"
#include "common/snowflake.h"
#include "sql/sql.h"
#include "storage/key_codec.h"
#include "storage/row_codec.h"
#include "storage/storage.h"

namespace kalamdb::sql {

Result<int64_t> SweepExpiredStreamRows(catalog::Catalog& catalog, storage::Store& store) {
  auto snapshot = catalog.Snapshot();
  const int64_t now_ms = NowMicros() / 1000;
  int64_t removed = 0;
  for (const catalog::TableDef* table : snapshot->Tables()) {
    if (table->type != catalog::TableType::kStream || table->ttl_seconds <= 0) continue;
    const int64_t ttl_ms = table->ttl_seconds * 1000;
    storage::WriteBatch batch;
    Status scan = store.ScanPrefix(storage::Family::kRows, storage::TablePrefix(table->id),
                                   [&](std::string_view key, std::string_view value) {
                                     auto seq = storage::PeekSeq(value);
                                     if (seq.ok() && SnowflakeMillis(*seq) + ttl_ms < now_ms) {
                                       batch.Delete(storage::Family::kRows, key);
                                     }
                                     return batch.size() < 10000;  // bounded work per pass
                                   });
    KALAMDB_RETURN_IF_ERROR(scan);
    if (batch.size() > 0) KALAMDB_RETURN_IF_ERROR(store.Write(batch));
    removed += static_cast<int64_t>(batch.size());
  }
  return removed;
}

}  // namespace kalamdb::sql
