// tables.cc: namespaces and table definitions in the meta family (keys in catalog.h).
//
// Table value: a JSON object
//   {"v":1,"id":7,"namespace":"app","name":"t","type":"shared","access":"PRIVATE","ttl":0,
//    "pk":0,"version":1,"created_at":..,"updated_at":..,
//    "columns":[{"name":"id","type":4,"precision":0,"scale":0,"max_length":0,"nullable":false,
//                "pk":true,"unique":false,"auto_increment":true,"default_kind":2,
//                "default_literal":""}, ...]}
// JSON keeps the records readable with ldb and easy to evolve; they are read once at startup.
#include <simdjson.h>

#include <algorithm>
#include <charconv>

#include "catalog/catalog.h"
#include "common/clock.h"
#include "common/json_writer.h"
#include "common/strings.h"
#include "storage/storage.h"

namespace kalamdb::catalog {
namespace {

constexpr std::string_view kNamespacePrefix = "ns/";
constexpr std::string_view kTablePrefix = "table/";
constexpr std::string_view kTableIdKey = "seq/table_id";

std::string NamespaceKey(std::string_view name) {
  return std::string(kNamespacePrefix) + std::string(name);
}

std::string TableKey(std::string_view ns, std::string_view name) {
  std::string key(kTablePrefix);
  key.append(ns).append(".").append(name);
  return key;
}

std::string QualifiedKey(std::string_view ns, std::string_view name) {
  std::string key(ns);
  key.append(".").append(name);
  return key;
}

std::string EncodeNamespace(const NamespaceDef& ns) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject().Key("name").String(ns.name).Key("created_at").Int(ns.created_at).EndObject();
  return out;
}

// Reads an optional field, leaving *out unchanged when it is absent or of another type.
void OptionalInt(simdjson::dom::element e, const char* key, int64_t* out) {
  int64_t v = 0;
  if (e[key].get_int64().get(v) == simdjson::SUCCESS) *out = v;
}

void OptionalBool(simdjson::dom::element e, const char* key, bool* out) {
  bool v = false;
  if (e[key].get_bool().get(v) == simdjson::SUCCESS) *out = v;
}

Status Corrupt(std::string_view what) {
  return Status(ErrorCode::kCorruption, "catalog record: " + std::string(what));
}

}  // namespace

std::string_view TableTypeName(TableType type) {
  switch (type) {
    case TableType::kUser:
      return "user";
    case TableType::kShared:
      return "shared";
    case TableType::kStream:
      return "stream";
  }
  return "shared";
}

std::string_view AccessLevelName(AccessLevel level) {
  switch (level) {
    case AccessLevel::kPublic:
      return "PUBLIC";
    case AccessLevel::kPrivate:
      return "PRIVATE";
    case AccessLevel::kRestricted:
      return "RESTRICTED";
    case AccessLevel::kDba:
      return "DBA";
  }
  return "PRIVATE";
}

int TableDef::ColumnIndex(std::string_view column) const {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (EqualsIgnoreCase(columns[i].name, column)) return static_cast<int>(i);
  }
  return -1;
}

std::string EncodeTable(const TableDef& t) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject();
  w.Key("v").Int(1);
  w.Key("id").Int(t.id);
  w.Key("namespace").String(t.namespace_id);
  w.Key("name").String(t.name);
  w.Key("type").String(TableTypeName(t.type));
  w.Key("access").String(AccessLevelName(t.access_level));
  w.Key("ttl").Int(t.ttl_seconds);
  w.Key("pk").Int(t.primary_key);
  w.Key("version").Int(t.version);
  w.Key("created_at").Int(t.created_at);
  w.Key("updated_at").Int(t.updated_at);
  w.Key("columns").BeginArray();
  for (const auto& c : t.columns) {
    w.BeginObject();
    w.Key("name").String(c.name);
    w.Key("type").Int(static_cast<int>(c.type.type));
    w.Key("precision").Int(c.type.precision);
    w.Key("scale").Int(c.type.scale);
    w.Key("max_length").Int(c.type.max_length);
    w.Key("nullable").Bool(c.nullable);
    w.Key("pk").Bool(c.primary_key);
    w.Key("unique").Bool(c.unique);
    w.Key("auto_increment").Bool(c.auto_increment);
    w.Key("default_kind").Int(static_cast<int>(c.default_value.kind));
    w.Key("default_literal").String(c.default_value.literal);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return out;
}

Result<TableDef> DecodeTable(std::string_view bytes) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(bytes);
  simdjson::dom::element doc;
  if (parser.parse(padded).get(doc) != simdjson::SUCCESS || !doc.is_object()) {
    return Corrupt("table is not a JSON object");
  }
  TableDef t;
  int64_t id = 0, pk = -1;
  std::string_view ns, name, type, access;
  if (doc["id"].get_int64().get(id) || doc["namespace"].get_string().get(ns) ||
      doc["name"].get_string().get(name) || doc["type"].get_string().get(type) ||
      doc["pk"].get_int64().get(pk)) {
    return Corrupt("table lacks id, namespace, name, type or pk");
  }
  t.id = static_cast<uint32_t>(id);
  t.namespace_id = std::string(ns);
  t.name = std::string(name);
  t.primary_key = static_cast<int>(pk);
  t.type = type == "user"     ? TableType::kUser
           : type == "stream" ? TableType::kStream
                              : TableType::kShared;
  if (doc["access"].get_string().get(access) == simdjson::SUCCESS) {
    for (auto level : {AccessLevel::kPublic, AccessLevel::kPrivate, AccessLevel::kRestricted,
                       AccessLevel::kDba}) {
      if (access == AccessLevelName(level)) t.access_level = level;
    }
  }
  OptionalInt(doc, "ttl", &t.ttl_seconds);
  OptionalInt(doc, "version", &t.version);
  OptionalInt(doc, "created_at", &t.created_at);
  OptionalInt(doc, "updated_at", &t.updated_at);
  simdjson::dom::array columns;
  if (doc["columns"].get_array().get(columns)) return Corrupt("table lacks columns");
  for (auto element : columns) {
    ColumnDef c;
    std::string_view column_name, literal;
    int64_t type_code = 0, precision = 0, scale = 0, max_length = 0, default_kind = 0;
    if (element["name"].get_string().get(column_name) ||
        element["type"].get_int64().get(type_code) || type_code < 1 ||
        type_code > static_cast<int64_t>(DataType::kUuid)) {
      return Corrupt("column lacks name or a valid type");
    }
    c.name = std::string(column_name);
    c.type.type = static_cast<DataType>(type_code);
    OptionalInt(element, "precision", &precision);
    OptionalInt(element, "scale", &scale);
    OptionalInt(element, "max_length", &max_length);
    c.type.precision = static_cast<uint8_t>(precision);
    c.type.scale = static_cast<uint8_t>(scale);
    c.type.max_length = static_cast<uint32_t>(max_length);
    OptionalBool(element, "nullable", &c.nullable);
    OptionalBool(element, "pk", &c.primary_key);
    OptionalBool(element, "unique", &c.unique);
    OptionalBool(element, "auto_increment", &c.auto_increment);
    OptionalInt(element, "default_kind", &default_kind);
    if (default_kind < 0 || default_kind > static_cast<int64_t>(DefaultValue::Kind::kCurrentUser)) {
      return Corrupt("column has an unknown default kind");
    }
    c.default_value.kind = static_cast<DefaultValue::Kind>(default_kind);
    if (element["default_literal"].get_string().get(literal) == simdjson::SUCCESS) {
      c.default_value.literal = std::string(literal);
    }
    t.columns.push_back(std::move(c));
  }
  if (t.primary_key >= static_cast<int>(t.columns.size()))
    return Corrupt("primary key index out of range");
  return t;
}

const NamespaceDef* CatalogSnapshot::FindNamespace(std::string_view name) const {
  auto it = namespaces_.find(name);
  return it == namespaces_.end() ? nullptr : &it->second;
}

const TableDef* CatalogSnapshot::FindTable(std::string_view namespace_id,
                                           std::string_view name) const {
  auto it = tables_.find(QualifiedKey(namespace_id, name));
  return it == tables_.end() ? nullptr : it->second.get();
}

std::vector<const NamespaceDef*> CatalogSnapshot::Namespaces() const {
  std::vector<const NamespaceDef*> out;
  for (const auto& [name, ns] : namespaces_) out.push_back(&ns);
  return out;
}

std::vector<const TableDef*> CatalogSnapshot::Tables(std::string_view namespace_id) const {
  std::vector<const TableDef*> out;
  for (const auto& [key, table] : tables_) {
    if (namespace_id.empty() || table->namespace_id == namespace_id) out.push_back(table.get());
  }
  return out;
}

namespace {
std::atomic<uint64_t> next_catalog_id{1};
}  // namespace

Catalog::Catalog(storage::Store& store)
    : store_(store),
      snapshot_(std::make_shared<const CatalogSnapshot>()),
      id_(next_catalog_id.fetch_add(1, std::memory_order_relaxed)) {}

std::shared_ptr<const CatalogSnapshot> Catalog::Snapshot() const { return snapshot_.load(); }

const CatalogSnapshot* Catalog::ThreadSnapshot() const {
  struct Cached {
    uint64_t catalog_id = 0;
    uint64_t version = 0;
    std::shared_ptr<const CatalogSnapshot> snapshot;
  };
  thread_local Cached cached;
  // Publish stores the snapshot before bumping the version: seeing a version means its
  // snapshot (or a newer one) is what Snapshot() returns.
  const uint64_t version = version_.load(std::memory_order_acquire);
  if (cached.catalog_id != id_ || cached.version != version || cached.snapshot == nullptr) {
    cached.snapshot = Snapshot();
    cached.catalog_id = id_;
    cached.version = version;
  }
  return cached.snapshot.get();
}

void Catalog::Publish(std::shared_ptr<const CatalogSnapshot> next) {
  snapshot_.store(std::move(next));
  version_.fetch_add(1, std::memory_order_release);
}

Status Catalog::Load() {
  std::lock_guard lock(ddl_mu_);
  auto next = std::make_shared<CatalogSnapshot>();
  Status bad;
  KALAMDB_RETURN_IF_ERROR(store_.ScanPrefix(
      storage::Family::kMeta, kNamespacePrefix, [&](std::string_view key, std::string_view value) {
        simdjson::dom::parser parser;
        simdjson::padded_string padded(value);
        simdjson::dom::element doc;
        NamespaceDef ns;
        std::string_view name;
        if (parser.parse(padded).get(doc) || doc["name"].get_string().get(name)) {
          bad = Corrupt(std::string(key));
          return false;
        }
        ns.name = std::string(name);
        OptionalInt(doc, "created_at", &ns.created_at);
        next->namespaces_[ns.name] = std::move(ns);
        return true;
      }));
  KALAMDB_RETURN_IF_ERROR(bad);
  KALAMDB_RETURN_IF_ERROR(store_.ScanPrefix(
      storage::Family::kMeta, kTablePrefix, [&](std::string_view key, std::string_view value) {
        auto table = DecodeTable(value);
        if (!table.ok()) {
          bad = Corrupt(std::string(key) + ": " + std::string(table.status().message()));
          return false;
        }
        std::string qualified = table->QualifiedName();
        next->tables_[qualified] = std::make_shared<const TableDef>(std::move(table).value());
        return true;
      }));
  KALAMDB_RETURN_IF_ERROR(bad);
  auto last = store_.Get(storage::Family::kMeta, kTableIdKey);
  if (!last.ok()) return last.status();
  last_table_id_ = 0;
  if (last->has_value()) {
    const std::string& text = **last;
    std::from_chars(text.data(), text.data() + text.size(), last_table_id_);
  }
  if (next->namespaces_.find("default") == next->namespaces_.end()) {
    NamespaceDef ns{"default", NowMicros()};
    KALAMDB_RETURN_IF_ERROR(
        store_.Put(storage::Family::kMeta, NamespaceKey(ns.name), EncodeNamespace(ns)));
    next->namespaces_[ns.name] = ns;
  }
  Publish(std::move(next));
  return Status::OK();
}

Status Catalog::CreateNamespace(std::string_view name) {
  std::lock_guard lock(ddl_mu_);
  auto current = Snapshot();
  if (current->FindNamespace(name) != nullptr) {
    return Status(ErrorCode::kAlreadyExists,
                  "Namespace '" + std::string(name) + "' already exists");
  }
  NamespaceDef ns{std::string(name), NowMicros()};
  KALAMDB_RETURN_IF_ERROR(
      store_.Put(storage::Family::kMeta, NamespaceKey(name), EncodeNamespace(ns)));
  auto next = std::make_shared<CatalogSnapshot>(*current);
  next->namespaces_[ns.name] = std::move(ns);
  Publish(std::move(next));
  return Status::OK();
}

Result<std::vector<std::shared_ptr<const TableDef>>> Catalog::DropNamespace(std::string_view name) {
  std::lock_guard lock(ddl_mu_);
  auto current = Snapshot();
  if (current->FindNamespace(name) == nullptr) {
    return Status(ErrorCode::kNotFound, "Namespace '" + std::string(name) + "' not found");
  }
  std::vector<std::shared_ptr<const TableDef>> dropped;
  storage::WriteBatch batch;
  auto next = std::make_shared<CatalogSnapshot>(*current);
  for (auto it = next->tables_.begin(); it != next->tables_.end();) {
    if (it->second->namespace_id == name) {
      batch.Delete(storage::Family::kMeta, TableKey(name, it->second->name));
      dropped.push_back(it->second);
      it = next->tables_.erase(it);
    } else {
      ++it;
    }
  }
  batch.Delete(storage::Family::kMeta, NamespaceKey(name));
  KALAMDB_RETURN_IF_ERROR(store_.Write(batch));
  next->namespaces_.erase(std::string(name));
  Publish(std::move(next));
  return dropped;
}

Result<std::shared_ptr<const TableDef>> Catalog::CreateTable(TableDef table) {
  if (table.columns.empty())
    return Status(ErrorCode::kInvalidArgument, "a table needs at least one column");
  if (table.primary_key >= static_cast<int>(table.columns.size())) {
    return Status(ErrorCode::kInvalidArgument, "primary key index out of range");
  }
  std::lock_guard lock(ddl_mu_);
  auto current = Snapshot();
  if (current->FindNamespace(table.namespace_id) == nullptr) {
    return Status(ErrorCode::kNotFound, "Namespace '" + table.namespace_id + "' does not exist");
  }
  if (current->FindTable(table.namespace_id, table.name) != nullptr) {
    return Status(ErrorCode::kAlreadyExists, "Table " + table.QualifiedName() + " already exists");
  }
  table.id = last_table_id_ + 1;
  table.version = 1;
  table.created_at = table.updated_at = NowMicros();
  storage::WriteBatch batch;
  batch.Put(storage::Family::kMeta, kTableIdKey, std::to_string(table.id));
  batch.Put(storage::Family::kMeta, TableKey(table.namespace_id, table.name), EncodeTable(table));
  KALAMDB_RETURN_IF_ERROR(store_.Write(batch));
  last_table_id_ = table.id;
  auto created = std::make_shared<const TableDef>(std::move(table));
  auto next = std::make_shared<CatalogSnapshot>(*current);
  next->tables_[created->QualifiedName()] = created;
  Publish(std::move(next));
  return created;
}

Result<std::shared_ptr<const TableDef>> Catalog::DropTable(std::string_view namespace_id,
                                                           std::string_view name) {
  std::lock_guard lock(ddl_mu_);
  auto current = Snapshot();
  auto it = current->tables_.find(QualifiedKey(namespace_id, name));
  if (it == current->tables_.end()) {
    return Status(ErrorCode::kNotFound,
                  "Table " + std::string(namespace_id) + "." + std::string(name) + " not found");
  }
  std::shared_ptr<const TableDef> dropped = it->second;
  KALAMDB_RETURN_IF_ERROR(store_.Delete(storage::Family::kMeta, TableKey(namespace_id, name)));
  auto next = std::make_shared<CatalogSnapshot>(*current);
  next->tables_.erase(QualifiedKey(namespace_id, name));
  Publish(std::move(next));
  return dropped;
}

}  // namespace kalamdb::catalog
