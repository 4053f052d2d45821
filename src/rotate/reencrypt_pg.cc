// The PostgreSQL back end of the re-encryption job (reencrypt.h, docs/ROTATION.md).
//
// The job's state lives in the database it works on:
//   piicrypt_jobs        one row per job (table and key column): its primary key id, mode
//                        and state ('running' or 'done');
//   piicrypt_job_ranges  the key column split into ranges (lo, hi], each with the last key
//                        done, whether it is done, and its counts;
//   piicrypt_job_failures  the row keys of the values that failed, with the reason.
// A worker's batch is one transaction: it claims the first range that is not done and not
// claimed (`FOR UPDATE SKIP LOCKED`), reads the next rows of that range after its last key,
// writes their new values with one conditional UPDATE, moves the range's checkpoint and
// commits. A worker that dies releases its claim with its transaction; the batch is done
// again by whoever claims the range next. Workers in other processes join the same job by
// running the same command.
#include <libpq-fe.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "piicrypt/status_macros.h"
#include "src/db/postgres.h"
#include "src/rotate/rewrite.h"

namespace piicrypt::internal {
namespace {

constexpr char kPrefix[] = "reencrypt (postgresql): ";

constexpr char kSchema[] =
    "CREATE TABLE IF NOT EXISTS piicrypt_jobs ("
    " job_id TEXT PRIMARY KEY,"
    " primary_key_id BIGINT NOT NULL,"
    " encrypt_plaintext BOOLEAN NOT NULL,"
    " state TEXT NOT NULL,"  // 'running' or 'done'
    " created_at TIMESTAMPTZ NOT NULL DEFAULT now(),"
    " updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),"
    " table_rows BIGINT);"  // rows in the table when the job started (Coverage)
    "ALTER TABLE piicrypt_jobs ADD COLUMN IF NOT EXISTS table_rows BIGINT;"
    "CREATE TABLE IF NOT EXISTS piicrypt_job_ranges ("
    " job_id TEXT NOT NULL REFERENCES piicrypt_jobs (job_id) ON DELETE CASCADE,"
    " range_no INTEGER NOT NULL,"
    " lo TEXT,"  // the range is (lo, hi] of the key column; NULL: unbounded
    " hi TEXT,"
    " last_key TEXT,"  // the last key done; NULL: none yet
    " done BOOLEAN NOT NULL DEFAULT false,"
    " rows BIGINT NOT NULL DEFAULT 0, reencrypted BIGINT NOT NULL DEFAULT 0,"
    " encrypted BIGINT NOT NULL DEFAULT 0, current_values BIGINT NOT NULL DEFAULT 0,"
    " null_values BIGINT NOT NULL DEFAULT 0, conflicts BIGINT NOT NULL DEFAULT 0,"
    " failed BIGINT NOT NULL DEFAULT 0,"
    " worker TEXT,"  // HOST:PID/THREAD of the last batch
    " updated_at TIMESTAMPTZ,"
    " PRIMARY KEY (job_id, range_no));"
    "CREATE TABLE IF NOT EXISTS piicrypt_job_failures ("
    " id BIGSERIAL PRIMARY KEY,"
    " job_id TEXT NOT NULL,"
    " row_key TEXT NOT NULL,"
    " reason TEXT NOT NULL);";

// Serializes the creation of the schema and of a job between processes.
constexpr char kJobLock[] = "SELECT pg_advisory_xact_lock(8100112548009865333)";

// At most this many ranges per job: enough for tens of workers, few enough to create fast.
constexpr int64_t kMaxRanges = 256;

// One connection; statements run with text parameters (NULL: SQL NULL) and text results.
class Conn {
 public:
  static absl::StatusOr<Conn> Open(const std::string& uri) {
    Conn c;
    PIICRYPT_ASSIGN_OR_RETURN(c.conn_, PgConnect(uri, "piicrypt-reencrypt", 10, kPrefix));
    return c;
  }

  absl::StatusOr<PgResultPtr> Exec(const std::string& sql,
                                   const std::vector<std::optional<std::string>>& params,
                                   absl::string_view what) const {
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const auto& p : params) values.push_back(p.has_value() ? p->c_str() : nullptr);
    PgResultPtr r(PQexecParams(conn_.get(), sql.c_str(), static_cast<int>(values.size()), nullptr,
                               values.data(), nullptr, nullptr, 0));
    if (!PgSucceeded(r.get())) return PgStatus(kPrefix, what, r.get());
    return r;
  }

  // A statement without parameters (may hold several).
  absl::Status Run(const std::string& sql, absl::string_view what) const {
    PgResultPtr r(PQexec(conn_.get(), sql.c_str()));
    if (!PgSucceeded(r.get())) return PgStatus(kPrefix, what, r.get());
    return absl::OkStatus();
  }

  // Ends a failed transaction; a connection that is gone needs nothing.
  void Rollback() const {
    if (PQstatus(conn_.get()) == CONNECTION_OK) PgResultPtr(PQexec(conn_.get(), "ROLLBACK"));
  }

 private:
  Conn() = default;
  PgConnPtr conn_;
};

std::optional<std::string> Value(const PGresult* r, int row, int col) {
  if (PQgetisnull(r, row, col)) return std::nullopt;
  return std::string(PQgetvalue(r, row, col), static_cast<size_t>(PQgetlength(r, row, col)));
}

int64_t Int(const PGresult* r, int row, int col) {
  int64_t n = 0;
  if (!PQgetisnull(r, row, col)) (void)absl::SimpleAtoi(PQgetvalue(r, row, col), &n);
  return n;
}

// A PostgreSQL array literal of text values: {"a\"b",NULL}.
class ArrayLiteral {
 public:
  void Add(const std::optional<std::string>& v) {
    text_.push_back(text_.empty() ? '{' : ',');
    if (!v.has_value()) {
      text_ += "NULL";
      return;
    }
    text_.push_back('"');
    for (char c : *v) {
      if (c == '"' || c == '\\') text_.push_back('\\');
      text_.push_back(c);
    }
    text_.push_back('"');
  }
  void Add(bool b) {
    text_.push_back(text_.empty() ? '{' : ',');
    text_.push_back(b ? 't' : 'f');
  }
  std::string Done() && { return text_.empty() ? std::string("{}") : std::move(text_) + "}"; }

 private:
  std::string text_;
};

struct Row {
  std::string key;  // the key column in text form
  std::vector<std::optional<std::string>> values;
  std::vector<std::optional<std::string>> indexes;   // verification only
  std::vector<std::optional<std::string>> versions;  // FF1 key versions (else NULL)
};

struct Range {
  int64_t number = 0;
  std::optional<std::string> after;  // the last key done, or the range's lo
  std::optional<std::string> hi;
};

// What every worker shares.
struct Shared {
  Shared(const Rewriter& r, const std::vector<Column>& c, const ReencryptOptions& o,
         const std::function<void(const ReencryptProgress&)>& p)
      : rewriter(r), columns(c), options(o), progress(p), pacer(o.max_rate) {}

  const Rewriter& rewriter;
  const std::vector<Column>& columns;
  const ReencryptOptions& options;
  const std::function<void(const ReencryptProgress&)>& progress;
  Pacer pacer;  // --max-rate, for all workers of this process
  uint32_t primary = 0;
  std::string job_id;
  std::string key_type;           // format_type() of the key column
  int64_t total = 0;              // rows in the table when this run started
  int64_t job_rows_at_start = 0;  // ... when the job started (StartOrJoin)
  std::atomic<int64_t> done{0};
  std::atomic<bool> stop{false};
  std::mutex progress_mu;
  const char* phase = "reencrypt";

  void Report(int64_t add) {
    const int64_t now = done.fetch_add(add) + add;
    if (!progress) return;
    std::lock_guard<std::mutex> lock(progress_mu);
    ReencryptProgress p;
    p.phase = phase;
    p.done = now;
    p.total = total;
    progress(p);
  }
};

// HOST:PID/NUMBER, recorded with each range's checkpoint.
std::string WorkerName(int number) {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  return absl::StrCat(host, ":", getpid(), "/", number);
}

class Worker {
 public:
  Worker(Conn conn, Shared& shared, int number)
      : conn_(std::move(conn)), s_(shared), name_(WorkerName(number)) {
    const std::string key = Quote(s_.options.key_column);
    // Qualified names (t."id"): the text form of the key is no output column named "id"
    // that ORDER BY would sort by as text.
    // Per column: its value, its blind index (verification), its key version (FF1).
    for (bool with_indexes : {false, true}) {
      std::vector<std::string> names = {absl::StrCat("t.", key, "::text AS piicrypt_row_key")};
      for (const Column& c : s_.columns) {
        names.push_back(absl::StrCat("t.", Quote(c.name)));
        if (with_indexes) {
          names.push_back(c.index_column.empty() ? "NULL"
                                                 : absl::StrCat("t.", Quote(c.index_column)));
        }
        if (c.ff1()) names.push_back(absl::StrCat("t.", Quote(c.version_column), "::text"));
      }
      (with_indexes ? select_verify_ : select_plain_) =
          absl::StrCat("SELECT ", absl::StrJoin(names, ", "));
    }
    // One conditional UPDATE for a whole batch: per column, whether it changes (s), the
    // value read (o), the new value (n), its new blind index (i) and, for FF1, the key
    // version read (ov) and the new one (nv).
    std::vector<std::string> sets, vars = {"k"}, arrays = {"$1::text[]"}, conditions;
    int p = 2;
    for (size_t c = 0; c < s_.columns.size(); ++c) {
      const Column& col = s_.columns[c];
      const std::string sv = absl::StrCat("s", c), ov = absl::StrCat("o", c),
                        nv = absl::StrCat("n", c), iv = absl::StrCat("i", c);
      sets.push_back(absl::StrCat(Quote(col.name), " = CASE WHEN v.", sv, " THEN v.", nv,
                                  " ELSE t.", Quote(col.name), " END"));
      vars.insert(vars.end(), {sv, ov, nv});
      arrays.insert(arrays.end(),
                    {absl::StrCat("$", p, "::bool[]"), absl::StrCat("$", p + 1, "::text[]"),
                     absl::StrCat("$", p + 2, "::text[]")});
      p += 3;
      if (!col.index_column.empty()) {
        sets.push_back(absl::StrCat(Quote(col.index_column), " = CASE WHEN v.", sv, " THEN v.", iv,
                                    " ELSE t.", Quote(col.index_column), " END"));
        vars.push_back(iv);
        arrays.push_back(absl::StrCat("$", p, "::text[]"));
        ++p;
      }
      std::string condition = absl::StrCat("t.", Quote(col.name), " IS NOT DISTINCT FROM v.", ov);
      if (col.ff1()) {
        const std::string ovv = absl::StrCat("ov", c), nvv = absl::StrCat("nv", c);
        const std::string version = Quote(col.version_column);
        sets.push_back(absl::StrCat(version, " = CASE WHEN v.", sv, " THEN v.", nvv,
                                    "::bigint ELSE t.", version, " END"));
        vars.insert(vars.end(), {ovv, nvv});
        arrays.insert(arrays.end(),
                      {absl::StrCat("$", p, "::text[]"), absl::StrCat("$", p + 1, "::text[]")});
        p += 2;
        absl::StrAppend(&condition, " AND t.", version, " IS NOT DISTINCT FROM v.", ovv,
                        "::bigint");
      }
      // A compound index was computed from its parts as read: they must not have changed.
      for (size_t part : col.parts) {
        const Column& pc = s_.columns[part];
        absl::StrAppend(&condition, " AND t.", Quote(pc.name), " IS NOT DISTINCT FROM v.o", part);
        if (pc.ff1()) {
          absl::StrAppend(&condition, " AND t.", Quote(pc.version_column),
                          " IS NOT DISTINCT FROM v.ov", part, "::bigint");
        }
      }
      conditions.push_back(absl::StrCat("(NOT v.", sv, " OR (", condition, "))"));
    }
    update_ =
        absl::StrCat("UPDATE ", Quote(s_.options.table), " AS t SET ", absl::StrJoin(sets, ", "),
                     " FROM unnest(", absl::StrJoin(arrays, ", "), ") AS v(",
                     absl::StrJoin(vars, ", "), ") WHERE t.", key, " = v.k::", s_.key_type, " AND ",
                     absl::StrJoin(conditions, " AND "), " RETURNING v.k");
  }

  // Claims batches until no range is left unclaimed. Counts go to the ranges' rows.
  absl::Status RunJob() {
    int retries = 0;
    while (!s_.stop.load()) {
      absl::StatusOr<bool> more = OneBatch();
      if (more.ok()) {
        retries = 0;
        if (!*more) return absl::OkStatus();
        continue;
      }
      conn_.Rollback();
      // A deadlock with the application or a serialization failure: the batch is retried.
      if (absl::IsAborted(more.status()) && ++retries <= 20) continue;
      return more.status();
    }
    return absl::OkStatus();
  }

  // Reads the whole table in key order, `batch` rows at a time, and passes each batch
  // to `fn` (dry run and verification; nothing is written).
  template <typename Fn>
  absl::Status Scan(bool with_indexes, Fn fn) {
    std::optional<std::string> after;
    for (;;) {
      s_.pacer.Wait(s_.options.batch);
      PIICRYPT_ASSIGN_OR_RETURN(std::vector<Row> rows,
                                Read(after, std::nullopt, with_indexes, false));
      if (rows.empty()) return absl::OkStatus();
      after = rows.back().key;
      fn(rows);
      s_.Report(static_cast<int64_t>(rows.size()));
    }
  }

  Conn& conn() { return conn_; }

 private:
  absl::StatusOr<std::vector<Row>> Read(const std::optional<std::string>& after,
                                        const std::optional<std::string>& hi, bool with_indexes,
                                        bool lock_one) {
    const std::string key = absl::StrCat("t.", Quote(s_.options.key_column));
    std::string sql = with_indexes ? select_verify_ : select_plain_;
    absl::StrAppend(&sql, " FROM ", Quote(s_.options.table), " AS t WHERE ", key, " IS NOT NULL");
    std::vector<std::optional<std::string>> params;
    if (lock_one) {
      params.push_back(after);
      absl::StrAppend(&sql, " AND ", key, " = $1::", s_.key_type, " FOR UPDATE");
    } else {
      if (after.has_value()) {
        params.push_back(after);
        absl::StrAppend(&sql, " AND ", key, " > $", params.size(), "::", s_.key_type);
      }
      if (hi.has_value()) {
        params.push_back(hi);
        absl::StrAppend(&sql, " AND ", key, " <= $", params.size(), "::", s_.key_type);
      }
      absl::StrAppend(&sql, " ORDER BY ", key, " LIMIT ", s_.options.batch);
    }
    PIICRYPT_ASSIGN_OR_RETURN(PgResultPtr r, conn_.Exec(sql, params, "cannot read a batch"));
    std::vector<Row> rows;
    const int n = PQntuples(r.get());
    rows.reserve(static_cast<size_t>(n));
    const int cols = static_cast<int>(s_.columns.size());
    for (int i = 0; i < n; ++i) {
      Row row;
      row.key = PQgetvalue(r.get(), i, 0);
      int f = 1;
      for (int c = 0; c < cols; ++c) {
        row.values.push_back(Value(r.get(), i, f++));
        if (with_indexes) row.indexes.push_back(Value(r.get(), i, f++));
        row.versions.push_back(s_.columns[c].ff1() ? Value(r.get(), i, f++) : std::nullopt);
      }
      rows.push_back(std::move(row));
    }
    return rows;
  }

  std::vector<Rewrite> Compute(const Row& row) const {
    std::vector<Rewrite> out;
    out.reserve(s_.columns.size());
    for (size_t c = 0; c < s_.columns.size(); ++c) {
      out.push_back(
          s_.columns[c].compound()
              ? s_.rewriter.ApplyCompound(s_.columns, c, row.values, row.versions, row.key)
              : s_.rewriter.Apply(s_.columns[c], row.values[c], row.versions[c], row.key));
    }
    return out;
  }

  static bool Changes(const std::vector<Rewrite>& w) {
    for (const Rewrite& x : w) {
      if (x.changes()) return true;
    }
    return false;
  }

  // Writes the rows at `which` of rows/rewrites with one conditional UPDATE; returns the
  // keys it updated.
  absl::StatusOr<std::set<std::string>> Update(const std::vector<Row>& rows,
                                               const std::vector<std::vector<Rewrite>>& w,
                                               const std::vector<size_t>& which) {
    std::set<std::string> updated;
    if (which.empty()) return updated;
    ArrayLiteral keys;
    std::vector<ArrayLiteral> arrays;
    for (size_t c = 0; c < s_.columns.size(); ++c) {
      arrays.resize(arrays.size() + 3 + (s_.columns[c].index_column.empty() ? 0 : 1) +
                    (s_.columns[c].ff1() ? 2 : 0));
    }
    for (size_t r : which) {
      keys.Add(std::optional<std::string>(rows[r].key));
      size_t a = 0;
      for (size_t c = 0; c < s_.columns.size(); ++c) {
        const Rewrite& x = w[r][c];
        const bool change = x.changes();
        arrays[a++].Add(change);
        // The value read, always: a changing compound index's condition compares its parts.
        arrays[a++].Add(rows[r].values[c]);
        arrays[a++].Add(change ? x.value : std::nullopt);
        if (!s_.columns[c].index_column.empty()) arrays[a++].Add(change ? x.index : std::nullopt);
        if (s_.columns[c].ff1()) {
          arrays[a++].Add(rows[r].versions[c]);
          arrays[a++].Add(change ? x.version : std::nullopt);
        }
      }
    }
    std::vector<std::optional<std::string>> params;
    params.push_back(std::move(keys).Done());
    for (ArrayLiteral& a : arrays) params.push_back(std::move(a).Done());
    PIICRYPT_ASSIGN_OR_RETURN(PgResultPtr r, conn_.Exec(update_, params, "cannot update a batch"));
    for (int i = 0; i < PQntuples(r.get()); ++i) updated.insert(PQgetvalue(r.get(), i, 0));
    return updated;
  }

  // The first range not done that no other worker holds; if every such range is held,
  // waits for the first of them (so that no worker ends before the whole job is done, and
  // a claim left by a worker that died is taken over as soon as its transaction ends).
  absl::StatusOr<std::optional<Range>> Claim() {
    const std::string sql =
        "SELECT g.range_no, coalesce(g.last_key, g.lo), g.hi"
        " FROM piicrypt_job_ranges g JOIN piicrypt_jobs j USING (job_id)"
        " WHERE g.job_id = $1 AND NOT g.done AND j.state = 'running'"
        " AND j.primary_key_id = $2 AND j.encrypt_plaintext = $3"
        " ORDER BY g.range_no LIMIT 1 FOR UPDATE OF g";
    const std::vector<std::optional<std::string>> params = {
        s_.job_id, absl::StrCat(s_.primary), s_.options.encrypt_plaintext ? "t" : "f"};
    for (;;) {
      PIICRYPT_ASSIGN_OR_RETURN(PgResultPtr r,
                                conn_.Exec(sql + " SKIP LOCKED", params, "cannot claim a range"));
      if (PQntuples(r.get()) == 0) {
        PIICRYPT_ASSIGN_OR_RETURN(
            PgResultPtr any,
            conn_.Exec("SELECT count(*) FROM piicrypt_job_ranges g JOIN piicrypt_jobs j"
                       " USING (job_id) WHERE g.job_id = $1 AND NOT g.done AND j.state ="
                       " 'running' AND j.primary_key_id = $2 AND j.encrypt_plaintext = $3",
                       params, "cannot read the ranges"));
        if (Int(any.get(), 0, 0) == 0) return std::nullopt;
        // Every range left is held: wait for the first. When it is released done, the
        // locked row no longer matches and the query returns nothing: look again.
        PIICRYPT_ASSIGN_OR_RETURN(r, conn_.Exec(sql, params, "cannot claim a range"));
        if (PQntuples(r.get()) == 0) continue;
      }
      Range range;
      range.number = Int(r.get(), 0, 0);
      range.after = Value(r.get(), 0, 1);
      range.hi = Value(r.get(), 0, 2);
      return range;
    }
  }

  // One batch in one transaction. Returns false when no range was left to claim.
  absl::StatusOr<bool> OneBatch() {
    s_.pacer.Wait(s_.options.batch);  // before the transaction: a paced worker holds no locks
    PIICRYPT_RETURN_IF_ERROR(conn_.Run("BEGIN", "cannot begin a transaction"));
    PIICRYPT_ASSIGN_OR_RETURN(std::optional<Range> range, Claim());
    if (!range.has_value()) {
      PIICRYPT_RETURN_IF_ERROR(conn_.Run("COMMIT", "cannot commit"));
      return false;
    }
    PIICRYPT_ASSIGN_OR_RETURN(std::vector<Row> rows, Read(range->after, range->hi, false, false));
    std::vector<std::vector<Rewrite>> w;
    w.reserve(rows.size());
    std::vector<size_t> which;
    for (size_t r = 0; r < rows.size(); ++r) {
      w.push_back(Compute(rows[r]));
      if (Changes(w[r])) which.push_back(r);
    }
    PIICRYPT_ASSIGN_OR_RETURN(std::set<std::string> updated, Update(rows, w, which));
    ReencryptSummary delta;
    std::vector<std::pair<std::string, std::string>> failures;
    for (size_t r = 0; r < rows.size(); ++r) {
      if (Changes(w[r]) && updated.count(rows[r].key) == 0) {
        // Changed since it was read: lock it, read it again and compute afresh. The lock
        // holds until this transaction ends, so the second update cannot miss.
        Row row = rows[r];
        std::vector<Rewrite> fresh_w;
        bool settled = false;
        for (int attempt = 0; attempt < 3 && !settled; ++attempt) {
          ++delta.conflicts;
          PIICRYPT_ASSIGN_OR_RETURN(std::vector<Row> fresh,
                                    Read(row.key, std::nullopt, false, true));
          fresh_w.clear();
          if (fresh.empty()) break;  // deleted meanwhile: nothing to do
          row = std::move(fresh[0]);
          fresh_w = Compute(row);
          if (!Changes(fresh_w)) break;
          PIICRYPT_ASSIGN_OR_RETURN(std::set<std::string> done,
                                    Update({row}, {fresh_w}, std::vector<size_t>{0}));
          settled = !done.empty();
        }
        // Not written although the row is there and locked: a failure, not done.
        if (!settled) MarkNotWritten(s_.columns, fresh_w);
        Tally(row.key, fresh_w, delta, failures);
      } else {
        Tally(rows[r].key, w[r], delta, failures);
      }
    }
    if (!failures.empty()) {
      ArrayLiteral keys, reasons;
      for (const auto& [key, reason] : failures) {
        keys.Add(std::optional<std::string>(key));
        reasons.Add(std::optional<std::string>(reason));
      }
      PIICRYPT_RETURN_IF_ERROR(
          conn_
              .Exec("INSERT INTO piicrypt_job_failures (job_id, row_key, reason)"
                    " SELECT $1, k, r FROM unnest($2::text[], $3::text[]) AS f(k, r)",
                    {s_.job_id, std::move(keys).Done(), std::move(reasons).Done()},
                    "cannot record the failures")
              .status());
    }
    const bool range_done = static_cast<int64_t>(rows.size()) < s_.options.batch;
    std::optional<std::string> last = rows.empty() ? range->after : rows.back().key;
    PIICRYPT_RETURN_IF_ERROR(
        conn_
            .Exec("UPDATE piicrypt_job_ranges SET last_key = $3, done = $4, rows = rows + $5,"
                  " reencrypted = reencrypted + $6, encrypted = encrypted + $7,"
                  " current_values = current_values + $8, null_values = null_values + $9,"
                  " conflicts = conflicts + $10, failed = failed + $11, worker = $12,"
                  " updated_at = now()"
                  " WHERE job_id = $1 AND range_no = $2",
                  {s_.job_id, absl::StrCat(range->number), last, range_done ? "t" : "f",
                   absl::StrCat(rows.size()), absl::StrCat(delta.reencrypted),
                   absl::StrCat(delta.encrypted), absl::StrCat(delta.current),
                   absl::StrCat(delta.null_values), absl::StrCat(delta.conflicts),
                   absl::StrCat(delta.failed), name_},
                  "cannot write the checkpoint")
            .status());
    PIICRYPT_RETURN_IF_ERROR(conn_.Run("COMMIT", "cannot commit a batch"));
    s_.Report(static_cast<int64_t>(rows.size()));
    return true;
  }

 public:
  // Dry run of one batch: the counts only.
  void Count(const std::vector<Row>& rows, ReencryptSummary& summary) const {
    std::vector<std::pair<std::string, std::string>> failures;
    ReencryptSummary delta;
    for (const Row& row : rows) Tally(row.key, Compute(row), delta, failures);
    AddCounts(summary, delta, static_cast<int64_t>(rows.size()));
    for (auto& [key, reason] : failures) {
      if (static_cast<int64_t>(summary.failures.size()) < s_.options.max_listed_failures) {
        summary.failures.push_back(absl::StrCat(key, ": ", reason));
      }
    }
  }

  void VerifyRows(const std::vector<Row>& rows, ReencryptSummary& summary) const {
    for (const Row& row : rows) {
      for (size_t c = 0; c < s_.columns.size(); ++c) {
        const bool compound = s_.columns[c].compound();
        if (!row.values[c].has_value() && !compound) continue;
        std::string reason =
            compound ? s_.rewriter.VerifyCompound(s_.columns, c, row.values, row.versions, row.key)
                     : s_.rewriter.Verify(s_.columns[c], row.values[c], row.indexes[c],
                                          row.versions[c], row.key);
        // (A NULL compound index of a row with a NULL part is no value to count.)
        if (!row.values[c].has_value() && reason.empty()) continue;
        ++summary.verified;
        if (reason.empty()) continue;
        ++summary.verify_failed;
        if (static_cast<int64_t>(summary.verify_failures.size()) < s_.options.max_listed_failures) {
          summary.verify_failures.push_back(absl::StrCat(row.key, ": ", reason));
        }
      }
    }
  }

 private:
  Conn conn_;
  Shared& s_;
  std::string select_plain_;   // SELECT ... of a batch
  std::string select_verify_;  // the same with the blind-index columns
  std::string update_;
  const std::string name_;
};

// Checks the table, its key column (unique) and its encrypted columns (text); returns the
// key column's type.
absl::StatusOr<std::string> CheckSchema(const Conn& conn, const ReencryptOptions& options,
                                        const std::vector<Column>& columns) {
  PIICRYPT_ASSIGN_OR_RETURN(PgResultPtr r,
                            conn.Exec("SELECT a.attname, format_type(a.atttypid, a.atttypmod),"
                                      " a.atttypid IN ('text'::regtype, 'varchar'::regtype),"
                                      " a.atttypid = 'bigint'::regtype"
                                      " FROM pg_attribute a WHERE a.attrelid = to_regclass($1)"
                                      " AND a.attnum > 0 AND NOT a.attisdropped",
                                      {Quote(options.table)}, "cannot read the table's columns"));
  if (PQntuples(r.get()) == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "no such table: ", options.table,
        " (PostgreSQL names are matched exactly; unquoted names are stored in lower case)"));
  }
  struct Type {
    std::string name;
    bool text = false;
    bool bigint = false;
  };
  std::map<std::string, Type> existing;
  for (int i = 0; i < PQntuples(r.get()); ++i) {
    existing[PQgetvalue(r.get(), i, 0)] = {PQgetvalue(r.get(), i, 1),
                                           absl::string_view(PQgetvalue(r.get(), i, 2)) == "t",
                                           absl::string_view(PQgetvalue(r.get(), i, 3)) == "t"};
  }
  auto find = [&](const std::string& name) -> absl::StatusOr<Type> {
    auto it = existing.find(name);
    if (it == existing.end()) {
      return absl::InvalidArgumentError(absl::StrCat("no such column: ", options.table, ".", name));
    }
    return it->second;
  };
  PIICRYPT_ASSIGN_OR_RETURN(auto key, find(options.key_column));
  for (const Column& c : columns) {
    for (const std::string& name : {c.name, c.index_column}) {
      if (name.empty()) continue;
      PIICRYPT_ASSIGN_OR_RETURN(Type col, find(name));
      if (!col.text) {
        return absl::InvalidArgumentError(absl::StrCat(
            options.table, ".", name, " is ", col.name,
            "; encrypted and blind-index columns must be text or varchar (the text form)"));
      }
    }
    if (c.ff1()) {
      PIICRYPT_ASSIGN_OR_RETURN(Type col, find(c.version_column));
      if (!col.bigint) {
        return absl::InvalidArgumentError(absl::StrCat(
            options.table, ".", c.version_column, " is ", col.name,
            "; a key-version column must be bigint (key ids are unsigned 32-bit numbers)"));
      }
    }
  }
  // Unique and NOT NULL (reencrypt.h): a valid, non-partial unique index (or the primary
  // key) on this column alone, and attnotnull. (A unique index lets NULLs repeat; an
  // invalid one, left by a failed CREATE INDEX CONCURRENTLY, proves nothing.)
  PIICRYPT_ASSIGN_OR_RETURN(
      PgResultPtr u,
      conn.Exec("SELECT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = a.attrelid"
                " AND i.indisunique AND i.indisvalid AND i.indnkeyatts = 1"
                " AND i.indpred IS NULL AND i.indkey[0] = a.attnum), a.attnotnull"
                " FROM pg_attribute a WHERE a.attrelid = to_regclass($1) AND a.attname = $2",
                {Quote(options.table), options.key_column}, "cannot read the table's indexes"));
  const bool unique = absl::string_view(PQgetvalue(u.get(), 0, 0)) == "t";
  const bool not_null = absl::string_view(PQgetvalue(u.get(), 0, 1)) == "t";
  if (!unique || !not_null) {
    return KeyColumnError(options.table, options.key_column, !unique, !not_null,
                          /*postgres=*/true);
  }
  return key.name;
}

absl::StatusOr<int64_t> CountRows(const Conn& conn, const ReencryptOptions& options) {
  PIICRYPT_ASSIGN_OR_RETURN(
      PgResultPtr r, conn.Exec(absl::StrCat("SELECT count(*) FROM ", Quote(options.table)), {},
                               "cannot count the rows"));
  return Int(r.get(), 0, 0);
}

// Creates the job (and its ranges) or joins the one running with the same primary key and
// mode. Returns whether it joined one that had work done already.
absl::StatusOr<bool> StartOrJoin(const Conn& conn, Shared& s, uint32_t primary) {
  const ReencryptOptions& options = s.options;
  PIICRYPT_RETURN_IF_ERROR(conn.Run("BEGIN", "cannot begin a transaction"));
  absl::StatusOr<bool> resumed = [&]() -> absl::StatusOr<bool> {
    PIICRYPT_RETURN_IF_ERROR(conn.Run(kJobLock, "cannot lock the job"));
    PIICRYPT_RETURN_IF_ERROR(conn.Run(kSchema, "cannot create piicrypt_jobs"));
    PIICRYPT_ASSIGN_OR_RETURN(
        PgResultPtr r,
        conn.Exec("SELECT primary_key_id, encrypt_plaintext, state,"
                  " (SELECT count(*) FROM piicrypt_job_ranges g WHERE g.job_id = j.job_id"
                  "  AND (g.rows > 0 OR g.done)), coalesce(table_rows, $2)"
                  " FROM piicrypt_jobs j WHERE job_id = $1",
                  {s.job_id, absl::StrCat(s.total)}, "cannot read piicrypt_jobs"));
    s.job_rows_at_start = s.total;
    if (PQntuples(r.get()) == 1 && Int(r.get(), 0, 0) == static_cast<int64_t>(primary) &&
        (absl::string_view(PQgetvalue(r.get(), 0, 1)) == "t") == options.encrypt_plaintext &&
        absl::string_view(PQgetvalue(r.get(), 0, 2)) == "running") {
      s.job_rows_at_start = Int(r.get(), 0, 4);
      return Int(r.get(), 0, 3) > 0;
    }
    // A new job: any finished or different one of this table is replaced.
    PIICRYPT_RETURN_IF_ERROR(conn.Exec("DELETE FROM piicrypt_jobs WHERE job_id = $1", {s.job_id},
                                       "cannot write piicrypt_jobs")
                                 .status());
    PIICRYPT_RETURN_IF_ERROR(conn.Exec("DELETE FROM piicrypt_job_failures WHERE job_id = $1",
                                       {s.job_id}, "cannot write piicrypt_job_failures")
                                 .status());
    PIICRYPT_RETURN_IF_ERROR(
        conn.Exec("INSERT INTO piicrypt_jobs (job_id, primary_key_id, encrypt_plaintext, state,"
                  " table_rows) VALUES ($1, $2, $3, 'running', $4)",
                  {s.job_id, absl::StrCat(primary), options.encrypt_plaintext ? "t" : "f",
                   absl::StrCat(s.total)},
                  "cannot write piicrypt_jobs")
            .status());
    // Ranges of about total/kMaxRanges rows (at least one batch each), split at existing
    // keys; the first and last are open, so rows inserted later fall into one of them.
    const int64_t chunk = std::max<int64_t>(options.batch, (s.total + kMaxRanges - 1) / kMaxRanges);
    const std::string key = Quote(options.key_column);
    PIICRYPT_RETURN_IF_ERROR(
        conn.Exec(absl::StrCat("WITH b AS (SELECT k, row_number() OVER (ORDER BY n) AS i FROM"
                               " (SELECT ",
                               key, "::text AS k, row_number() OVER (ORDER BY ", key,
                               ") AS n FROM ", Quote(options.table), " WHERE ", key,
                               " IS NOT NULL) s WHERE n % $2 = 0)"
                               " INSERT INTO piicrypt_job_ranges (job_id, range_no, lo, hi)"
                               " SELECT $1, i, lag(k) OVER (ORDER BY i), k FROM b"
                               " UNION ALL SELECT $1, (SELECT count(*) FROM b) + 1,"
                               " (SELECT k FROM b ORDER BY i DESC LIMIT 1), NULL"),
                  {s.job_id, absl::StrCat(chunk)}, "cannot split the table into ranges")
            .status());
    return false;
  }();
  if (!resumed.ok()) {
    conn.Rollback();
    return resumed.status();
  }
  PIICRYPT_RETURN_IF_ERROR(conn.Run("COMMIT", "cannot commit"));
  return resumed;
}

// The job's counts over all its ranges (every worker, every run), its failures, and
// whether it is done (then marked so).
absl::Status Finish(const Conn& conn, Shared& s, ReencryptSummary& summary) {
  PIICRYPT_ASSIGN_OR_RETURN(
      PgResultPtr j,
      conn.Exec("SELECT 1 FROM piicrypt_jobs WHERE job_id = $1 AND primary_key_id = $2"
                " AND encrypt_plaintext = $3",
                {s.job_id, absl::StrCat(s.primary), s.options.encrypt_plaintext ? "t" : "f"},
                "cannot read piicrypt_jobs"));
  if (PQntuples(j.get()) == 0) {
    return absl::AbortedError(
        absl::StrCat(kPrefix,
                     "the job was replaced meanwhile by a run with another primary key or mode; "
                     "run again with the current keyset"));
  }
  PIICRYPT_ASSIGN_OR_RETURN(
      PgResultPtr r, conn.Exec("SELECT coalesce(sum(rows), 0), coalesce(sum(reencrypted), 0),"
                               " coalesce(sum(encrypted), 0), coalesce(sum(current_values), 0),"
                               " coalesce(sum(null_values), 0), coalesce(sum(conflicts), 0),"
                               " coalesce(sum(failed), 0), count(*) FILTER (WHERE NOT done)"
                               " FROM piicrypt_job_ranges WHERE job_id = $1",
                               {s.job_id}, "cannot read the job's counts"));
  summary.rows = Int(r.get(), 0, 0);
  summary.reencrypted = Int(r.get(), 0, 1);
  summary.encrypted = Int(r.get(), 0, 2);
  summary.current = Int(r.get(), 0, 3);
  summary.null_values = Int(r.get(), 0, 4);
  summary.conflicts = Int(r.get(), 0, 5);
  summary.failed = Int(r.get(), 0, 6);
  summary.walk.walked = summary.rows;
  summary.walk.table_at_start = s.job_rows_at_start;
  if (Int(r.get(), 0, 7) == 0) {
    PIICRYPT_RETURN_IF_ERROR(conn.Exec("UPDATE piicrypt_jobs SET state = 'done', updated_at = now()"
                                       " WHERE job_id = $1 AND state = 'running'",
                                       {s.job_id}, "cannot write piicrypt_jobs")
                                 .status());
  }
  PIICRYPT_ASSIGN_OR_RETURN(
      PgResultPtr f, conn.Exec("SELECT row_key, reason FROM piicrypt_job_failures WHERE job_id = $1"
                               " ORDER BY id LIMIT $2",
                               {s.job_id, absl::StrCat(s.options.max_listed_failures)},
                               "cannot read the failures"));
  for (int i = 0; i < PQntuples(f.get()); ++i) {
    summary.failures.push_back(
        absl::StrCat(PQgetvalue(f.get(), i, 0), ": ", PQgetvalue(f.get(), i, 1)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ReencryptSummary> RunPostgresReencrypt(
    const Rewriter& rewriter, const std::vector<Column>& columns, uint32_t primary,
    const ReencryptOptions& options,
    const std::function<void(const ReencryptProgress&)>& progress) {
  Shared s(rewriter, columns, options, progress);
  s.primary = primary;
  s.job_id = absl::StrCat("reencrypt:", options.table, ":", options.key_column);
  PIICRYPT_ASSIGN_OR_RETURN(Conn main, Conn::Open(options.db_url));
  PIICRYPT_ASSIGN_OR_RETURN(s.key_type, CheckSchema(main, options, columns));
  PIICRYPT_ASSIGN_OR_RETURN(s.total, CountRows(main, options));
  ReencryptSummary summary;

  if (options.dry_run) {
    s.phase = "dry-run";
    s.Report(0);
    Worker worker(std::move(main), s, 0);
    PIICRYPT_RETURN_IF_ERROR(
        worker.Scan(false, [&](const std::vector<Row>& rows) { worker.Count(rows, summary); }));
    main = std::move(worker.conn());
    summary.walk.walked = summary.rows;
    summary.walk.table_at_start = s.total;
  } else {
    PIICRYPT_ASSIGN_OR_RETURN(summary.resumed, StartOrJoin(main, s, primary));
    {
      PIICRYPT_ASSIGN_OR_RETURN(PgResultPtr r,
                                main.Exec("SELECT coalesce(sum(rows), 0) FROM piicrypt_job_ranges"
                                          " WHERE job_id = $1",
                                          {s.job_id}, "cannot read the job's progress"));
      s.done = Int(r.get(), 0, 0);
    }
    s.Report(0);
    std::vector<Conn> conns;
    for (int i = 0; i < options.workers; ++i) {
      PIICRYPT_ASSIGN_OR_RETURN(Conn c, Conn::Open(options.db_url));
      conns.push_back(std::move(c));
    }
    std::vector<absl::Status> results(conns.size());
    std::vector<std::thread> threads;
    for (size_t i = 0; i < conns.size(); ++i) {
      threads.emplace_back([&, i] {
        Worker worker(std::move(conns[i]), s, static_cast<int>(i) + 1);
        results[i] = worker.RunJob();
        if (!results[i].ok()) s.stop.store(true);
      });
    }
    for (std::thread& t : threads) t.join();
    for (const absl::Status& status : results) PIICRYPT_RETURN_IF_ERROR(status);
    PIICRYPT_RETURN_IF_ERROR(Finish(main, s, summary));
  }
  PIICRYPT_ASSIGN_OR_RETURN(summary.walk.table_at_end, CountRows(main, options));

  if (options.verify) {
    s.phase = "verify";
    s.done = 0;
    PIICRYPT_ASSIGN_OR_RETURN(s.total, CountRows(main, options));
    s.Report(0);
    Worker worker(std::move(main), s, 0);
    summary.verify_walk.table_at_start = s.total;
    PIICRYPT_RETURN_IF_ERROR(worker.Scan(true, [&](const std::vector<Row>& rows) {
      worker.VerifyRows(rows, summary);
      summary.verify_walk.walked += static_cast<int64_t>(rows.size());
    }));
    PIICRYPT_ASSIGN_OR_RETURN(summary.verify_walk.table_at_end, CountRows(worker.conn(), options));
  }
  return summary;
}

}  // namespace piicrypt::internal
