#include "src/db/postgres.h"

#include <memory>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "src/db/db_names.h"

namespace piicrypt::internal {
namespace {

struct ConninfoDeleter {
  void operator()(PQconninfoOption* o) const { PQconninfoFree(o); }
};

bool IsUri(absl::string_view conninfo) {
  return absl::StartsWith(conninfo, "postgresql://") || absl::StartsWith(conninfo, "postgres://");
}

// Sets `out` to "host H port P database D user U" from the parsed options (never the
// password); false if `conninfo` does not parse.
bool DescribeTarget(const std::string& conninfo, std::string& out) {
  if (!IsUri(conninfo) && conninfo.find('=') == std::string::npos) {
    out = absl::StrCat("database ", conninfo);  // libpq takes it as a plain database name
    return true;
  }
  char* error = nullptr;
  std::unique_ptr<PQconninfoOption, ConninfoDeleter> options(
      PQconninfoParse(conninfo.c_str(), &error));
  PQfreemem(error);  // may quote the bad token, and so the password: never shown
  if (options == nullptr) return false;
  constexpr std::pair<absl::string_view, absl::string_view> kShown[] = {{"host", "host"},
                                                                        {"hostaddr", "address"},
                                                                        {"port", "port"},
                                                                        {"dbname", "database"},
                                                                        {"user", "user"}};
  for (const auto& [keyword, label] : kShown) {
    for (const PQconninfoOption* o = options.get(); o->keyword != nullptr; ++o) {
      if (o->keyword == keyword && o->val != nullptr && o->val[0] != '\0') {
        absl::StrAppend(&out, out.empty() ? "" : " ", label, " ", o->val);
      }
    }
  }
  if (out.empty()) out = "the default server";
  return true;
}

struct Reason {
  absl::string_view marker;  // a phrase of libpq's or the server's (English) message
  absl::string_view shown;
  absl::StatusCode code;
};
constexpr Reason kReasons[] = {
    {"no pg_hba.conf entry", "the server's pg_hba.conf admits no such connection",
     absl::StatusCode::kPermissionDenied},
    {"authentication failed", "authentication failed", absl::StatusCode::kPermissionDenied},
    {"does not exist", "the database or role does not exist", absl::StatusCode::kUnavailable},
    {"Connection refused", "connection refused", absl::StatusCode::kUnavailable},
    {"could not translate host name", "the host name does not resolve",
     absl::StatusCode::kUnavailable},
    {"timeout expired", "no answer in time", absl::StatusCode::kUnavailable},
    {"No such file or directory", "no server listens on the local socket",
     absl::StatusCode::kUnavailable},
    {"SSL", "the TLS handshake failed", absl::StatusCode::kUnavailable},
};

absl::string_view SqlStateMeaning(absl::string_view state) {
  constexpr std::pair<absl::string_view, absl::string_view> kExact[] = {
      {"22P02", "a value does not have the column's type"},
      {"23502", "a NOT NULL constraint was violated"},
      {"23505", "a unique constraint was violated"},
      {"40001", "serialization failure"},
      {"40P01", "deadlock detected"},
      {"42501", "insufficient privilege"},
      {"42P01", "undefined table"},
      {"42703", "undefined column"},
      {"42804", "datatype mismatch"},
      {"55P03", "lock not available"},
      {"57014", "statement canceled (timeout)"},
  };
  for (const auto& [code, meaning] : kExact) {
    if (state == code) return meaning;
  }
  constexpr std::pair<absl::string_view, absl::string_view> kClasses[] = {
      {"08", "connection exception"},
      {"22", "data exception"},
      {"23", "integrity constraint violation"},
      {"25", "invalid transaction state"},
      {"28", "invalid authorization"},
      {"40", "transaction rolled back"},
      {"42", "syntax error or access rule violation"},
      {"53", "insufficient resources"},
      {"55", "object not in prerequisite state"},
      {"57", "operator intervention"},
      {"58", "system error"},
  };
  for (const auto& [prefix, meaning] : kClasses) {
    if (absl::StartsWith(state, prefix)) return meaning;
  }
  return "the server reported an error";
}

}  // namespace

absl::Status PgConnectError(absl::string_view prefix, const std::string& conninfo,
                            const PGconn* conn) {
  std::string target;
  if (!DescribeTarget(conninfo, target)) {
    return absl::InvalidArgumentError(absl::StrCat(
        prefix,
        "the connection URI is malformed (check its percent-escapes, parameter names and "
        "values); it is not shown because it may hold a password"));
  }
  absl::string_view reason = "the server refused the connection (its log says why)";
  absl::StatusCode code = absl::StatusCode::kUnavailable;
  if (conn == nullptr) {
    reason = "out of memory";
  } else if (PQconnectionNeedsPassword(conn)) {
    reason = "the server asks for a password and none was given";
    code = absl::StatusCode::kPermissionDenied;
  } else {
    // Only compared with fixed phrases, never copied: it may quote parts of the URI.
    const absl::string_view libpq_text = PQerrorMessage(conn);
    for (const Reason& r : kReasons) {
      if (absl::StrContains(libpq_text, r.marker)) {
        reason = r.shown;
        code = r.code;
        break;
      }
    }
  }
  return absl::Status(code, absl::StrCat(prefix, "cannot connect to ", target, ": ", reason));
}

std::string PgResultMessage(const PGresult* result) {
  const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  if (state == nullptr) return "the connection failed";
  std::string out = absl::StrCat(SqlStateMeaning(state), " (SQLSTATE ", state, ")");
  constexpr std::pair<int, absl::string_view> kNamed[] = {
      {PG_DIAG_TABLE_NAME, "table"},
      {PG_DIAG_COLUMN_NAME, "column"},
      {PG_DIAG_CONSTRAINT_NAME, "constraint"},
  };
  for (const auto& [field, label] : kNamed) {
    const char* name = PQresultErrorField(result, field);
    if (name != nullptr && IsPlainDbIdentifier(name)) absl::StrAppend(&out, ", ", label, " ", name);
  }
  return out;
}

bool PgSucceeded(const PGresult* result) {
  const ExecStatusType status = result != nullptr ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
}

absl::Status PgStatus(absl::string_view prefix, absl::string_view what, const PGresult* result) {
  const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  const absl::string_view s = state != nullptr ? state : "";
  const std::string message = absl::StrCat(prefix, what, ": ", PgResultMessage(result));
  if (s.empty() || absl::StartsWith(s, "08") || absl::StartsWith(s, "53") ||
      absl::StartsWith(s, "57") || s == "55P03" || s == "25006") {
    return absl::UnavailableError(message);
  }
  if (s == "40001" || s == "40P01") return absl::AbortedError(message);
  if (absl::StartsWith(s, "28") || s == "42501") return absl::PermissionDeniedError(message);
  if (s == "23505") return absl::AlreadyExistsError(message);
  if (s == "42P01" || s == "42703" || s == "42804" || s == "22P02") {
    return absl::InvalidArgumentError(message);
  }
  return absl::InternalError(message);
}

absl::StatusOr<PgConnPtr> PgConnect(const std::string& uri, const char* application_name,
                                    int64_t connect_timeout_seconds, absl::string_view prefix) {
  const std::string timeout = absl::StrCat(connect_timeout_seconds);
  // Keywords after "dbname" override the URI; those before it are defaults it may override.
  const char* keywords[] = {"connect_timeout", "application_name", "dbname", "client_encoding",
                            nullptr};
  const char* values[] = {timeout.c_str(), application_name, uri.c_str(), "UTF8", nullptr};
  PgConnPtr conn(PQconnectdbParams(keywords, values, /*expand_dbname=*/1));
  if (conn == nullptr || PQstatus(conn.get()) != CONNECTION_OK) {
    return PgConnectError(prefix, uri, conn.get());
  }
  return conn;
}

}  // namespace piicrypt::internal
