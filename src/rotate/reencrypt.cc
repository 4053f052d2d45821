#include "src/rotate/reencrypt.h"

#include <sqlite3.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "piicrypt/field_cryptor.h"
#include "piicrypt/secret_data.h"
#include "piicrypt/status_macros.h"
#include "src/db/sqlite.h"
#include "src/rotate/rewrite.h"

namespace piicrypt::internal {
namespace {

// A value of the key column, kept with its SQLite type so that ranges compare as the
// table's index does.
struct KeyValue {
  int type = SQLITE_NULL;
  int64_t integer = 0;
  double real = 0;
  std::string bytes;  // TEXT or BLOB

  static KeyValue FromColumn(sqlite3_stmt* s, int i) {
    KeyValue k;
    k.type = sqlite3_column_type(s, i);
    switch (k.type) {
      case SQLITE_INTEGER:
        k.integer = sqlite3_column_int64(s, i);
        break;
      case SQLITE_FLOAT:
        k.real = sqlite3_column_double(s, i);
        break;
      case SQLITE_TEXT:
      case SQLITE_BLOB: {
        const void* p = k.type == SQLITE_TEXT ? static_cast<const void*>(sqlite3_column_text(s, i))
                                              : sqlite3_column_blob(s, i);
        const int n = sqlite3_column_bytes(s, i);
        if (p != nullptr) k.bytes.assign(static_cast<const char*>(p), static_cast<size_t>(n));
        break;
      }
      default:
        break;
    }
    return k;
  }

  int Bind(sqlite3_stmt* s, int i) const {
    switch (type) {
      case SQLITE_INTEGER:
        return sqlite3_bind_int64(s, i, integer);
      case SQLITE_FLOAT:
        return sqlite3_bind_double(s, i, real);
      case SQLITE_TEXT:
        return sqlite3_bind_text(s, i, bytes.data(), static_cast<int>(bytes.size()),
                                 SQLITE_TRANSIENT);
      case SQLITE_BLOB:
        return sqlite3_bind_blob(s, i, bytes.data(), static_cast<int>(bytes.size()),
                                 SQLITE_TRANSIENT);
      default:
        return sqlite3_bind_null(s, i);
    }
  }

  // The record id bound into row-bound fields, and the name of the row in reports.
  std::string Text() const {
    switch (type) {
      case SQLITE_INTEGER:
        return absl::StrCat(integer);
      case SQLITE_FLOAT:
        return absl::StrCat(real);
      case SQLITE_TEXT:
      case SQLITE_BLOB:
        return bytes;
      default:
        return "NULL";
    }
  }
};

void BindString(sqlite3_stmt* s, int i, const std::string& v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
}

// Column i as text ("" for NULL).
std::string ColumnText(sqlite3_stmt* s, int i) {
  const unsigned char* p = sqlite3_column_text(s, i);
  return p != nullptr ? std::string(reinterpret_cast<const char*>(p),
                                    static_cast<size_t>(sqlite3_column_bytes(s, i)))
                      : std::string();
}

int BindText(sqlite3_stmt* s, int i, const std::optional<std::string>& v) {
  if (!v.has_value()) return sqlite3_bind_null(s, i);
  return sqlite3_bind_text(s, i, v->data(), static_cast<int>(v->size()), SQLITE_TRANSIENT);
}

// A key-version value: an INTEGER when it is one (as the column stores it), else as read.
int BindKeyId(sqlite3_stmt* s, int i, const std::optional<std::string>& v) {
  int64_t n = 0;
  if (v.has_value() && absl::SimpleAtoi(*v, &n)) return sqlite3_bind_int64(s, i, n);
  return BindText(s, i, v);
}

// ---- the job -------------------------------------------------------------------------------

constexpr char kJobsSchema[] =
    "CREATE TABLE IF NOT EXISTS piicrypt_jobs ("
    " job_id TEXT PRIMARY KEY,"
    " primary_key_id INTEGER NOT NULL,"
    " encrypt_plaintext INTEGER NOT NULL,"
    " state TEXT NOT NULL,"  // 'running' or 'done'
    " last_key,"             // the last key of the last committed batch; NULL: none yet
    " rows INTEGER NOT NULL, reencrypted INTEGER NOT NULL, encrypted INTEGER NOT NULL,"
    " current_values INTEGER NOT NULL, null_values INTEGER NOT NULL,"
    " conflicts INTEGER NOT NULL, failed INTEGER NOT NULL,"
    " updated_at TEXT NOT NULL,"
    " table_rows INTEGER);"  // rows in the table when the job started (Coverage)
    "CREATE TABLE IF NOT EXISTS piicrypt_job_failures ("
    " job_id TEXT NOT NULL, row_key TEXT NOT NULL, reason TEXT NOT NULL);";

// piicrypt_jobs tables created before table_rows existed get it.
constexpr char kJobsUpgrade[] =
    "SELECT count(*) FROM pragma_table_info('piicrypt_jobs') WHERE name = 'table_rows'";
constexpr char kJobsAddTableRows[] = "ALTER TABLE piicrypt_jobs ADD COLUMN table_rows INTEGER";

using Clock = std::chrono::steady_clock;

class Job {
 public:
  Job(SqliteDb db, const ReencryptOptions& options, std::vector<Column> columns,
      const Rewriter& rewriter, uint32_t primary,
      const std::function<void(const ReencryptProgress&)>& progress)
      : db_(std::move(db)),
        options_(options),
        columns_(std::move(columns)),
        rewriter_(rewriter),
        primary_(primary),
        progress_(progress),
        job_id_(absl::StrCat("reencrypt:", options.table, ":", options.key_column)) {}

  // Every name must be a column of the table. (A prepared SELECT is not enough: SQLite
  // reads a double-quoted name that is no column as a string literal.)
  absl::Status CheckSchema() {
    PIICRYPT_ASSIGN_OR_RETURN(SqliteStmtPtr s,
                              db_.Prepare("SELECT name FROM pragma_table_info(?)"));
    sqlite3_bind_text(s.get(), 1, options_.table.data(), static_cast<int>(options_.table.size()),
                      SQLITE_TRANSIENT);
    std::vector<std::string> existing;
    int rc;
    while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
      existing.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(s.get(), 0)));
    }
    if (rc != SQLITE_DONE) return db_.Error(rc, "cannot read the table's columns");
    if (existing.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("no such table: ", options_.table));
    }
    std::vector<std::string> names = {options_.key_column};
    for (const Column& c : columns_) {
      names.push_back(c.name);
      if (!c.index_column.empty()) names.push_back(c.index_column);
      if (c.ff1()) names.push_back(c.version_column);
    }
    for (const std::string& name : names) {
      bool found = false;
      for (const std::string& e : existing) found = found || absl::EqualsIgnoreCase(e, name);
      if (!found) {
        return absl::InvalidArgumentError(
            absl::StrCat("no such column: ", options_.table, ".", name));
      }
    }
    return absl::OkStatus();
  }

  // The key column must be unique and NOT NULL (reencrypt.h), proven from the catalog:
  // the rowid alias (INTEGER PRIMARY KEY of a rowid table), or a unique, non-partial index
  // on this column alone together with NOT NULL. The walk then compares keys under that
  // index's collation, under which they are distinct.
  absl::Status CheckKeyColumn() {
    PIICRYPT_ASSIGN_OR_RETURN(
        SqliteStmtPtr s, db_.Prepare("SELECT name, upper(type), \"notnull\", pk,"
                                     " (SELECT count(*) FROM pragma_table_info(?1) WHERE pk > 0)"
                                     " FROM pragma_table_info(?1)"));
    BindString(s.get(), 1, options_.table);
    bool not_null = false, rowid_alias_candidate = false;
    int rc;
    while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
      if (!absl::EqualsIgnoreCase(ColumnText(s.get(), 0), options_.key_column)) continue;
      not_null = sqlite3_column_int(s.get(), 2) != 0;
      rowid_alias_candidate = ColumnText(s.get(), 1) == "INTEGER" &&
                              sqlite3_column_int(s.get(), 3) == 1 &&
                              sqlite3_column_int(s.get(), 4) == 1;
    }
    if (rc != SQLITE_DONE) return db_.Error(rc, "cannot read the table's columns");
    // Each unique, non-partial index with its key columns; a 'pk' index means the primary
    // key is no rowid alias (a WITHOUT ROWID table, or INTEGER PRIMARY KEY DESC).
    PIICRYPT_ASSIGN_OR_RETURN(
        SqliteStmtPtr ix,
        db_.Prepare("SELECT l.origin, l.\"unique\" AND NOT l.partial,"
                    " (SELECT count(*) FROM pragma_index_xinfo(l.name) x WHERE x.key),"
                    " (SELECT x.name FROM pragma_index_xinfo(l.name) x WHERE x.key),"
                    " (SELECT x.coll FROM pragma_index_xinfo(l.name) x WHERE x.key)"
                    " FROM pragma_index_list(?) l"));
    BindString(ix.get(), 1, options_.table);
    bool pk_index = false, unique = false;
    std::string collation;
    while ((rc = sqlite3_step(ix.get())) == SQLITE_ROW) {
      pk_index = pk_index || ColumnText(ix.get(), 0) == "pk";
      if (unique || sqlite3_column_int(ix.get(), 1) == 0 || sqlite3_column_int(ix.get(), 2) != 1 ||
          !absl::EqualsIgnoreCase(ColumnText(ix.get(), 3), options_.key_column)) {
        continue;
      }
      unique = true;
      collation = ColumnText(ix.get(), 4);
    }
    if (rc != SQLITE_DONE) return db_.Error(rc, "cannot read the table's indexes");
    if (rowid_alias_candidate && !pk_index) {
      key_ = Quote(options_.key_column);  // the rowid: an integer, never NULL
      return absl::OkStatus();
    }
    if (!unique || !not_null) {
      return KeyColumnError(options_.table, options_.key_column, !unique, !not_null,
                            /*postgres=*/false);
    }
    if (!IsSqlIdentifier(collation)) {
      return absl::InvalidArgumentError(absl::StrCat("--key-column ", options_.key_column,
                                                     ": its unique index uses a collation the job "
                                                     "cannot name; use the primary key"));
    }
    key_ = absl::StrCat(Quote(options_.key_column), " COLLATE ", collation);
    return absl::OkStatus();
  }

  absl::StatusOr<int64_t> CountRows() {
    PIICRYPT_ASSIGN_OR_RETURN(
        SqliteStmtPtr s, db_.Prepare(absl::StrCat("SELECT count(*) FROM ", Quote(options_.table))));
    const int rc = sqlite3_step(s.get());
    if (rc != SQLITE_ROW) return db_.Error(rc, "cannot count the rows");
    return sqlite3_column_int64(s.get(), 0);
  }

  // The batch query: key, then each column (its index column, for verification, and its
  // key-version column, for FF1).
  absl::Status PrepareSelects(bool with_indexes) {
    std::vector<std::string> names = {Quote(options_.key_column)};
    for (const Column& c : columns_) {
      names.push_back(Quote(c.name));
      if (with_indexes) {
        names.push_back(c.index_column.empty() ? std::string("NULL") : Quote(c.index_column));
      }
      if (c.ff1()) names.push_back(Quote(c.version_column));
    }
    const std::string head =
        absl::StrCat("SELECT ", absl::StrJoin(names, ", "), " FROM ", Quote(options_.table));
    const std::string tail = absl::StrCat(" ORDER BY ", key_, " LIMIT ?");
    PIICRYPT_ASSIGN_OR_RETURN(select_first_, db_.Prepare(head + tail));
    PIICRYPT_ASSIGN_OR_RETURN(select_after_,
                              db_.Prepare(absl::StrCat(head, " WHERE ", key_, " > ?", tail)));
    PIICRYPT_ASSIGN_OR_RETURN(select_one_,
                              db_.Prepare(absl::StrCat(head, " WHERE ", key_, " = ?")));
    return absl::OkStatus();
  }

  struct Row {
    KeyValue key;
    std::vector<std::optional<std::string>> values;    // per column
    std::vector<std::optional<std::string>> indexes;   // per column (verification)
    std::vector<std::optional<std::string>> versions;  // per column (FF1; else NULL)
    // The value and version as stored, with their SQLite types: the update's condition
    // compares with these (an INTEGER 42 in a column without affinity is not '42').
    std::vector<KeyValue> stored_values;
    std::vector<KeyValue> stored_versions;
    bool blob = false;
  };

  Row RowFrom(sqlite3_stmt* s, bool with_indexes) const {
    Row row;
    row.key = KeyValue::FromColumn(s, 0);
    int i = 1;
    // The text form of column i (its type read first: reading text may convert it).
    auto next = [&](bool check_blob, std::vector<KeyValue>* stored) {
      std::optional<std::string> v;
      const KeyValue typed = KeyValue::FromColumn(s, i);
      if (check_blob && typed.type == SQLITE_BLOB) row.blob = true;
      if (typed.type != SQLITE_NULL) v = ColumnText(s, i);
      if (stored != nullptr) stored->push_back(typed);
      ++i;
      return v;
    };
    for (const Column& c : columns_) {
      row.values.push_back(next(true, &row.stored_values));
      if (with_indexes) row.indexes.push_back(next(true, nullptr));
      row.versions.push_back(c.ff1() ? next(false, &row.stored_versions) : std::nullopt);
      if (!c.ff1()) row.stored_versions.emplace_back();
    }
    return row;
  }

  // Reads the next batch after `after` (none: from the start) in its own read transaction.
  absl::StatusOr<std::vector<Row>> ReadBatch(const std::optional<KeyValue>& after,
                                             bool with_indexes) {
    pacer_.Wait(options_.batch);
    sqlite3_stmt* s = after.has_value() ? select_after_.get() : select_first_.get();
    int param = 1;
    if (after.has_value()) after->Bind(s, param++);
    sqlite3_bind_int64(s, param, options_.batch);
    std::vector<Row> rows;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      Row row = RowFrom(s, with_indexes);
      rows.push_back(std::move(row));
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    if (rc != SQLITE_DONE) return db_.Error(rc, "cannot read a batch");
    return rows;
  }

  absl::StatusOr<sqlite3_stmt*> UpdateFor(uint32_t mask) {
    auto it = updates_.find(mask);
    if (it != updates_.end()) return it->second.get();
    std::vector<std::string> sets;
    std::vector<std::string> conditions = {absl::StrCat(key_, " = ?")};
    for (size_t c = 0; c < columns_.size(); ++c) {
      if ((mask & (1u << c)) == 0) continue;
      sets.push_back(absl::StrCat(Quote(columns_[c].name), " = ?"));
      if (!columns_[c].index_column.empty()) {
        sets.push_back(absl::StrCat(Quote(columns_[c].index_column), " = ?"));
      }
      conditions.push_back(absl::StrCat(Quote(columns_[c].name), " IS ?"));
      if (columns_[c].ff1()) {
        sets.push_back(absl::StrCat(Quote(columns_[c].version_column), " = ?"));
        conditions.push_back(absl::StrCat(Quote(columns_[c].version_column), " IS ?"));
      }
      // A compound index was computed from its parts as read: they must not have changed.
      for (size_t p : columns_[c].parts) {
        conditions.push_back(absl::StrCat(Quote(columns_[p].name), " IS ?"));
        if (columns_[p].ff1()) {
          conditions.push_back(absl::StrCat(Quote(columns_[p].version_column), " IS ?"));
        }
      }
    }
    PIICRYPT_ASSIGN_OR_RETURN(SqliteStmtPtr s,
                              db_.Prepare(absl::StrCat("UPDATE ", Quote(options_.table), " SET ",
                                                       absl::StrJoin(sets, ", "), " WHERE ",
                                                       absl::StrJoin(conditions, " AND "))));
    sqlite3_stmt* raw = s.get();
    updates_.emplace(mask, std::move(s));
    return raw;
  }

  absl::Status CreateJobsSchema() {
    PIICRYPT_RETURN_IF_ERROR(db_.Exec(kJobsSchema, "cannot create piicrypt_jobs"));
    PIICRYPT_ASSIGN_OR_RETURN(SqliteStmtPtr s, db_.Prepare(kJobsUpgrade));
    const int rc = sqlite3_step(s.get());
    if (rc != SQLITE_ROW) return db_.Error(rc, "cannot read piicrypt_jobs");
    if (sqlite3_column_int(s.get(), 0) != 0) return absl::OkStatus();
    return db_.Exec(kJobsAddTableRows, "cannot upgrade piicrypt_jobs");
  }

  // Loads or starts the checkpoint; `total` is the table's rows now, the job's count at its
  // start if it starts (or if the job it resumes has none). Returns where to continue.
  absl::StatusOr<std::optional<KeyValue>> StartOrResume(int64_t total, ReencryptSummary& summary) {
    PIICRYPT_RETURN_IF_ERROR(db_.Exec("BEGIN IMMEDIATE", "cannot begin a transaction"));
    summary.walk.table_at_start = total;
    absl::Status status = [&]() -> absl::Status {
      PIICRYPT_RETURN_IF_ERROR(CreateJobsSchema());
      PIICRYPT_ASSIGN_OR_RETURN(
          SqliteStmtPtr s,
          db_.Prepare("SELECT primary_key_id, encrypt_plaintext, state, last_key, rows,"
                      " reencrypted, encrypted, current_values, null_values,"
                      " conflicts, failed, coalesce(table_rows, ?2)"
                      " FROM piicrypt_jobs WHERE job_id = ?1"));
      BindString(s.get(), 1, job_id_);
      sqlite3_bind_int64(s.get(), 2, total);
      const int rc = sqlite3_step(s.get());
      if (rc == SQLITE_ROW && static_cast<uint32_t>(sqlite3_column_int64(s.get(), 0)) == primary_ &&
          (sqlite3_column_int(s.get(), 1) != 0) == options_.encrypt_plaintext &&
          absl::string_view(reinterpret_cast<const char*>(sqlite3_column_text(s.get(), 2))) ==
              "running") {
        summary.resumed = true;
        if (sqlite3_column_type(s.get(), 3) != SQLITE_NULL)
          resume_ = KeyValue::FromColumn(s.get(), 3);
        summary.rows = sqlite3_column_int64(s.get(), 4);
        summary.reencrypted = sqlite3_column_int64(s.get(), 5);
        summary.encrypted = sqlite3_column_int64(s.get(), 6);
        summary.current = sqlite3_column_int64(s.get(), 7);
        summary.null_values = sqlite3_column_int64(s.get(), 8);
        summary.conflicts = sqlite3_column_int64(s.get(), 9);
        summary.failed = sqlite3_column_int64(s.get(), 10);
        summary.walk.table_at_start = sqlite3_column_int64(s.get(), 11);
        s.reset();
        // A job of a version without table_rows keeps the count from now on.
        PIICRYPT_ASSIGN_OR_RETURN(SqliteStmtPtr keep,
                                  db_.Prepare("UPDATE piicrypt_jobs SET table_rows = ?"
                                              " WHERE job_id = ? AND table_rows IS NULL"));
        sqlite3_bind_int64(keep.get(), 1, summary.walk.table_at_start);
        BindString(keep.get(), 2, job_id_);
        return db_.Step(keep.get(), "cannot write piicrypt_jobs");
      }
      if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        return db_.Error(rc, "cannot read piicrypt_jobs");
      }
      s.reset();
      PIICRYPT_ASSIGN_OR_RETURN(
          SqliteStmtPtr put,
          db_.Prepare(
              "INSERT OR REPLACE INTO piicrypt_jobs (job_id, primary_key_id,"
              " encrypt_plaintext, state, last_key, rows, reencrypted, encrypted,"
              " current_values, null_values, conflicts, failed, updated_at, table_rows)"
              " VALUES (?, ?, ?, 'running', NULL, 0, 0, 0, 0, 0, 0, 0, datetime('now'), ?)"));
      sqlite3_bind_text(put.get(), 1, job_id_.data(), static_cast<int>(job_id_.size()),
                        SQLITE_TRANSIENT);
      sqlite3_bind_int64(put.get(), 2, primary_);
      sqlite3_bind_int(put.get(), 3, options_.encrypt_plaintext ? 1 : 0);
      sqlite3_bind_int64(put.get(), 4, total);
      PIICRYPT_RETURN_IF_ERROR(db_.Step(put.get(), "cannot write piicrypt_jobs"));
      PIICRYPT_ASSIGN_OR_RETURN(SqliteStmtPtr clear,
                                db_.Prepare("DELETE FROM piicrypt_job_failures WHERE job_id = ?"));
      sqlite3_bind_text(clear.get(), 1, job_id_.data(), static_cast<int>(job_id_.size()),
                        SQLITE_TRANSIENT);
      return db_.Step(clear.get(), "cannot write piicrypt_job_failures");
    }();
    if (!status.ok()) {
      (void)db_.Exec("ROLLBACK", "rollback");
      return status;
    }
    PIICRYPT_RETURN_IF_ERROR(db_.Exec("COMMIT", "cannot commit"));
    return resume_;
  }

  absl::Status PrepareCheckpoint() {
    PIICRYPT_ASSIGN_OR_RETURN(
        checkpoint_,
        db_.Prepare("UPDATE piicrypt_jobs SET last_key = ?, rows = ?, reencrypted = ?,"
                    " encrypted = ?, current_values = ?, null_values = ?, conflicts = ?,"
                    " failed = ?, state = ?, updated_at = datetime('now') WHERE job_id = ?"));
    PIICRYPT_ASSIGN_OR_RETURN(add_failure_,
                              db_.Prepare("INSERT INTO piicrypt_job_failures VALUES (?, ?, ?)"));
    return absl::OkStatus();
  }

  absl::Status WriteCheckpoint(const std::optional<KeyValue>& last, const ReencryptSummary& s,
                               const char* state) {
    sqlite3_stmt* st = checkpoint_.get();
    if (last.has_value()) {
      last->Bind(st, 1);
    } else {
      sqlite3_bind_null(st, 1);
    }
    const int64_t counts[] = {s.rows,        s.reencrypted, s.encrypted, s.current,
                              s.null_values, s.conflicts,   s.failed};
    int i = 2;
    for (int64_t n : counts) sqlite3_bind_int64(st, i++, n);
    sqlite3_bind_text(st, i++, state, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, i, job_id_.data(), static_cast<int>(job_id_.size()), SQLITE_TRANSIENT);
    absl::Status status = db_.Step(st, "cannot write the checkpoint");
    sqlite3_clear_bindings(st);
    return status;
  }

  absl::Status RecordFailure(const std::string& key, const std::string& reason) {
    sqlite3_stmt* st = add_failure_.get();
    sqlite3_bind_text(st, 1, job_id_.data(), static_cast<int>(job_id_.size()), SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, key.data(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, reason.data(), static_cast<int>(reason.size()), SQLITE_TRANSIENT);
    return db_.Step(st, "cannot record a failure");
  }

  void Report(const char* phase, int64_t done, int64_t total) {
    if (!progress_) return;
    ReencryptProgress p;
    p.phase = phase;
    p.done = done;
    p.total = total;
    progress_(p);
  }

  std::vector<Rewrite> Compute(const Row& row) const {
    std::vector<Rewrite> out;
    out.reserve(columns_.size());
    const std::string record = row.key.Text();
    for (size_t c = 0; c < columns_.size(); ++c) {
      if (row.values[c].has_value() && row.blob) {
        Rewrite w;
        w.outcome = Outcome::kFailed;
        w.reason = absl::StrCat(columns_[c].field, ": BLOB values are not supported");
        out.push_back(std::move(w));
      } else if (columns_[c].compound()) {
        out.push_back(rewriter_.ApplyCompound(columns_, c, row.values, row.versions, record));
      } else {
        out.push_back(rewriter_.Apply(columns_[c], row.values[c], row.versions[c], record));
      }
    }
    return out;
  }

  static uint32_t MaskOf(const std::vector<Rewrite>& w) {
    uint32_t mask = 0;
    for (size_t c = 0; c < w.size(); ++c) {
      if (w[c].outcome == Outcome::kReencrypted || w[c].outcome == Outcome::kEncrypted) {
        mask |= 1u << c;
      }
    }
    return mask;
  }

  // The conditional update of one row; false if the row no longer holds what was read.
  absl::StatusOr<bool> Apply(const Row& row, const std::vector<Rewrite>& w) {
    const uint32_t mask = MaskOf(w);
    if (mask == 0) return true;
    PIICRYPT_ASSIGN_OR_RETURN(sqlite3_stmt * st, UpdateFor(mask));
    int i = 1;
    for (size_t c = 0; c < columns_.size(); ++c) {
      if ((mask & (1u << c)) == 0) continue;
      BindText(st, i++, w[c].value);
      if (!columns_[c].index_column.empty()) BindText(st, i++, w[c].index);
      if (columns_[c].ff1()) BindKeyId(st, i++, w[c].version);
    }
    row.key.Bind(st, i++);
    for (size_t c = 0; c < columns_.size(); ++c) {
      if ((mask & (1u << c)) == 0) continue;
      row.stored_values[c].Bind(st, i++);
      if (columns_[c].ff1()) row.stored_versions[c].Bind(st, i++);
      for (size_t p : columns_[c].parts) {
        row.stored_values[p].Bind(st, i++);
        if (columns_[p].ff1()) row.stored_versions[p].Bind(st, i++);
      }
    }
    absl::Status status = db_.Step(st, "cannot update a row");
    sqlite3_clear_bindings(st);
    PIICRYPT_RETURN_IF_ERROR(status);
    return sqlite3_changes(db_.get()) > 0;
  }

  absl::StatusOr<std::optional<Row>> ReadOne(const KeyValue& key) {
    sqlite3_stmt* s = select_one_.get();
    key.Bind(s, 1);
    std::optional<Row> row;
    const int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) row = RowFrom(s, false);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
      return db_.Error(rc, "cannot read a row again");
    }
    return row;
  }

  // The re-encryption (or, with dry_run, its count).
  absl::Status Run(ReencryptSummary& summary) {
    PIICRYPT_ASSIGN_OR_RETURN(const int64_t total, CountRows());
    PIICRYPT_RETURN_IF_ERROR(PrepareSelects(/*with_indexes=*/false));
    std::optional<KeyValue> after;
    summary.walk.table_at_start = total;
    if (!options_.dry_run) {
      PIICRYPT_ASSIGN_OR_RETURN(after, StartOrResume(total, summary));
      PIICRYPT_RETURN_IF_ERROR(PrepareCheckpoint());
    }
    const char* phase = options_.dry_run ? "dry-run" : "reencrypt";
    Report(phase, summary.rows, total);
    for (;;) {
      PIICRYPT_ASSIGN_OR_RETURN(std::vector<Row> rows, ReadBatch(after, false));
      if (rows.empty()) break;
      // The work happens outside the write transaction; the updates are conditional.
      std::vector<std::vector<Rewrite>> rewrites;
      rewrites.reserve(rows.size());
      for (const Row& row : rows) rewrites.push_back(Compute(row));
      std::vector<std::pair<std::string, std::string>> failures;
      ReencryptSummary delta;
      const std::optional<KeyValue> last = rows.back().key;
      if (options_.dry_run) {
        for (size_t r = 0; r < rows.size(); ++r)
          Tally(rows[r].key.Text(), rewrites[r], delta, failures);
      } else {
        PIICRYPT_RETURN_IF_ERROR(db_.Exec("BEGIN IMMEDIATE", "cannot begin a transaction"));
        absl::Status status = [&]() -> absl::Status {
          for (size_t r = 0; r < rows.size(); ++r) {
            Row row = std::move(rows[r]);
            std::vector<Rewrite> w = std::move(rewrites[r]);
            // A row changed since it was read is read again (this transaction holds the
            // write lock now, so it cannot change again) and computed afresh.
            for (int attempt = 0;; ++attempt) {
              PIICRYPT_ASSIGN_OR_RETURN(const bool applied, Apply(row, w));
              if (applied) break;
              ++delta.conflicts;
              PIICRYPT_ASSIGN_OR_RETURN(std::optional<Row> fresh, ReadOne(row.key));
              if (!fresh.has_value()) {  // deleted meanwhile: nothing to do
                w.clear();
                break;
              }
              if (attempt == 3) {  // there, and locked by this transaction: not done
                MarkNotWritten(columns_, w);
                break;
              }
              row = *std::move(fresh);
              w = Compute(row);
            }
            Tally(row.key.Text(), w, delta, failures);
          }
          for (const auto& [key, reason] : failures) {
            PIICRYPT_RETURN_IF_ERROR(RecordFailure(key, reason));
          }
          ReencryptSummary next = summary;
          AddCounts(next, delta, static_cast<int64_t>(rows.size()));
          PIICRYPT_RETURN_IF_ERROR(WriteCheckpoint(last, next, "running"));
          return db_.Exec("COMMIT", "cannot commit a batch");
        }();
        if (!status.ok()) {
          (void)db_.Exec("ROLLBACK", "rollback");
          return status;
        }
      }
      AddCounts(summary, delta, static_cast<int64_t>(rows.size()));
      if (options_.dry_run) {
        for (auto& [key, reason] : failures) {
          if (static_cast<int64_t>(summary.failures.size()) < options_.max_listed_failures) {
            summary.failures.push_back(absl::StrCat(key, ": ", reason));
          }
        }
      }
      after = last;
      Report(phase, summary.rows, total);
    }
    if (!options_.dry_run) {
      PIICRYPT_RETURN_IF_ERROR(WriteCheckpoint(after, summary, "done"));
      PIICRYPT_ASSIGN_OR_RETURN(SqliteStmtPtr s,
                                db_.Prepare("SELECT row_key, reason FROM piicrypt_job_failures"
                                            " WHERE job_id = ? ORDER BY rowid LIMIT ?"));
      sqlite3_bind_text(s.get(), 1, job_id_.data(), static_cast<int>(job_id_.size()),
                        SQLITE_TRANSIENT);
      sqlite3_bind_int64(s.get(), 2, options_.max_listed_failures);
      int rc;
      while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
        summary.failures.push_back(
            absl::StrCat(reinterpret_cast<const char*>(sqlite3_column_text(s.get(), 0)), ": ",
                         reinterpret_cast<const char*>(sqlite3_column_text(s.get(), 1))));
      }
      if (rc != SQLITE_DONE) return db_.Error(rc, "cannot read the failures");
    }
    summary.walk.walked = summary.rows;
    PIICRYPT_ASSIGN_OR_RETURN(summary.walk.table_at_end, CountRows());
    return absl::OkStatus();
  }

  absl::Status Verify(ReencryptSummary& summary) {
    PIICRYPT_ASSIGN_OR_RETURN(const int64_t total, CountRows());
    PIICRYPT_RETURN_IF_ERROR(PrepareSelects(/*with_indexes=*/true));
    std::optional<KeyValue> after;
    int64_t done = 0;
    Report("verify", 0, total);
    for (;;) {
      PIICRYPT_ASSIGN_OR_RETURN(std::vector<Row> rows, ReadBatch(after, true));
      if (rows.empty()) break;
      for (const Row& row : rows) {
        const std::string record = row.key.Text();
        for (size_t c = 0; c < columns_.size(); ++c) {
          const bool compound = columns_[c].compound();
          if (!row.values[c].has_value() && !compound) continue;
          std::string reason =
              row.blob   ? absl::StrCat(columns_[c].field, ": BLOB values are not supported")
              : compound ? rewriter_.VerifyCompound(columns_, c, row.values, row.versions, record)
                         : rewriter_.Verify(columns_[c], row.values[c], row.indexes[c],
                                            row.versions[c], record);
          // (A NULL compound index of a row with a NULL part is no value to count.)
          if (!row.values[c].has_value() && reason.empty()) continue;
          ++summary.verified;
          if (reason.empty()) continue;
          ++summary.verify_failed;
          if (static_cast<int64_t>(summary.verify_failures.size()) < options_.max_listed_failures) {
            summary.verify_failures.push_back(absl::StrCat(record, ": ", reason));
          }
        }
      }
      done += static_cast<int64_t>(rows.size());
      after = rows.back().key;
      Report("verify", done, total);
    }
    summary.verify_walk.walked = done;
    summary.verify_walk.table_at_start = total;
    PIICRYPT_ASSIGN_OR_RETURN(summary.verify_walk.table_at_end, CountRows());
    return absl::OkStatus();
  }

 private:
  SqliteDb db_;
  const ReencryptOptions& options_;
  Pacer pacer_{options_.max_rate};
  const std::vector<Column> columns_;
  const Rewriter& rewriter_;
  const uint32_t primary_;
  const std::function<void(const ReencryptProgress&)>& progress_;
  const std::string job_id_;
  std::optional<KeyValue> resume_;
  std::string key_;  // the key column as the walk compares it (CheckKeyColumn)
  SqliteStmtPtr select_first_;
  SqliteStmtPtr select_after_;
  SqliteStmtPtr select_one_;
  SqliteStmtPtr checkpoint_;
  SqliteStmtPtr add_failure_;
  std::map<uint32_t, SqliteStmtPtr> updates_;
};

}  // namespace

absl::StatusOr<ReencryptSummary> RunReencrypt(
    const Keyset& keyset, const Policy& policy, const ReencryptOptions& options,
    const std::function<void(const ReencryptProgress&)>& progress) {
  const auto start = Clock::now();
  PIICRYPT_RETURN_IF_ERROR(CheckOptions(options));
  constexpr absl::string_view kSqlite = "sqlite:";
  const bool postgres = absl::StartsWith(options.db_url, "postgresql://") ||
                        absl::StartsWith(options.db_url, "postgres://");
  if (!postgres && !absl::StartsWith(options.db_url, kSqlite)) {
    return absl::InvalidArgumentError(
        "--db: expected sqlite:PATH or a postgresql:// URL (libpq connection URI)");
  }
  if (!postgres && options.workers != 1) {
    return absl::InvalidArgumentError(
        "--workers: SQLite has one writer; --workers is for PostgreSQL");
  }
  std::vector<std::string> skipped;
  PIICRYPT_ASSIGN_OR_RETURN(std::vector<Column> columns, ColumnsOf(policy, options, skipped));
  PIICRYPT_ASSIGN_OR_RETURN(auto cryptor, FieldCryptor::Create(keyset, policy));
  const uint32_t primary = keyset.primary_key_id();
  Rewriter rewriter(*cryptor, primary, options.encrypt_plaintext);

  ReencryptSummary summary;
  if (postgres) {
    PIICRYPT_ASSIGN_OR_RETURN(summary,
                              RunPostgresReencrypt(rewriter, columns, primary, options, progress));
  } else {
    const std::string path(absl::string_view(options.db_url).substr(kSqlite.size()));
    if (path.empty()) return absl::InvalidArgumentError("--db: sqlite: needs a file path");
    PIICRYPT_ASSIGN_OR_RETURN(
        SqliteDb db,
        SqliteDb::Open(path, options.dry_run ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE,
                       absl::Seconds(30), "reencrypt (sqlite): "));
    Job job(std::move(db), options, std::move(columns), rewriter, primary, progress);
    PIICRYPT_RETURN_IF_ERROR(job.CheckSchema());
    PIICRYPT_RETURN_IF_ERROR(job.CheckKeyColumn());
    PIICRYPT_RETURN_IF_ERROR(job.Run(summary));
    if (options.verify) PIICRYPT_RETURN_IF_ERROR(job.Verify(summary));
  }
  summary.skipped = std::move(skipped);
  summary.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return summary;
}

}  // namespace piicrypt::internal
