// pg_server.h: a throw-away PostgreSQL server for tests and benchmarks.
//
//   PIICRYPT_ASSIGN_OR_RETURN(auto server, piicrypt::testing::PgServer::Start());
//   PIICRYPT_ASSIGN_OR_RETURN(auto store, piicrypt::TokenStore::Open(server->Url()));
//   ...
//   PIICRYPT_RETURN_IF_ERROR(server->Stop());     // the store is now down
//   PIICRYPT_RETURN_IF_ERROR(server->Restart());  // same data, same URL
//
// Start() runs initdb and pg_ctl (from /usr/lib/postgresql/15/bin, or $PIICRYPT_PG_BINDIR)
// into a fresh temporary directory. The server listens on a unix socket in that directory
// only (no TCP at all), trusts local connections for the superuser "postgres", and runs
// with fsync off (unless Options::durable). PostgreSQL refuses to run as root: when the
// caller is root, the directory is given to the "postgres" system user (Debian's postgresql
// package creates it) and the server binaries run under `runuser -u postgres --`. The
// destructor stops the server and removes the directory.
//
// Starting a server costs about a second: share one per test binary (SharedPgServer()).
// Not thread-safe; servers are started and stopped by one thread.
#ifndef PIICRYPT_TESTS_PG_PG_SERVER_H_
#define PIICRYPT_TESTS_PG_PG_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace piicrypt::testing {

class PgServer {
 public:
  struct Options {
    // fsync and full-page writes on, as in production (benchmarks of durable writes);
    // off by default (tests: faster, and a crash of the machine loses nothing of value).
    bool durable = false;
  };
  static absl::StatusOr<std::unique_ptr<PgServer>> Start(const Options& options);
  static absl::StatusOr<std::unique_ptr<PgServer>> Start() { return Start(Options()); }
  ~PgServer();
  PgServer(const PgServer&) = delete;
  PgServer& operator=(const PgServer&) = delete;

  // pg_ctl stop (fast shutdown: connections are closed, data is kept).
  [[nodiscard]] absl::Status Stop();
  // pg_ctl start on the same data directory; the URL does not change.
  [[nodiscard]] absl::Status Restart();
  bool running() const { return running_; }

  // A libpq URI for database `database` as the superuser, over the unix socket.
  std::string Url(absl::string_view database = "postgres") const;
  // Runs `sql` through psql in `database`; returns its unaligned, tuples-only output.
  absl::StatusOr<std::string> Psql(absl::string_view sql,
                                   absl::string_view database = "postgres") const;
  // CREATE DATABASE `name` (a plain identifier).
  [[nodiscard]] absl::Status CreateDatabase(absl::string_view name) const;
  // The number of sessions of `database` whose application_name is `application_name`.
  absl::StatusOr<int> Sessions(absl::string_view database,
                               absl::string_view application_name) const;
  // Waits until no session of `database` whose application_name is `application_name` is
  // left. A client killed with SIGKILL leaves its session running until the server notices
  // the closed socket, and a COMMIT the client had sent may still land after the client is
  // gone: a test that reads what a killed job did waits for this first. kDeadlineExceeded
  // after `timeout`.
  [[nodiscard]] absl::Status AwaitSessionsEnded(absl::string_view database,
                                                absl::string_view application_name,
                                                absl::Duration timeout = absl::Seconds(30)) const;

  const std::string& directory() const { return dir_; }

 private:
  PgServer() = default;
  // Runs a server binary, as the server's user. Output goes to `out` if given.
  absl::Status RunServerBinary(const std::string& args, std::string* out = nullptr) const;

  std::string bindir_;
  std::string dir_;     // the temporary directory: data/, the socket, server.log
  std::string run_as_;  // "runuser -u postgres -- " when root, else empty
  int port_ = 5432;     // names the socket file only
  bool durable_ = false;
  bool running_ = false;
};

// One server per process, started on first call and stopped at exit. Returns nullptr (and
// sets `error`) if it cannot start.
PgServer* SharedPgServer(std::string* error = nullptr);

}  // namespace piicrypt::testing

#endif  // PIICRYPT_TESTS_PG_PG_SERVER_H_
