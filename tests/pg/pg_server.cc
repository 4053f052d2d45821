#include "tests/pg/pg_server.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"

namespace piicrypt::testing {
namespace {

// Runs `command` through the shell; its output (stdout and stderr) goes to `out` if given.
absl::Status Shell(const std::string& command, std::string* out) {
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return absl::InternalError("popen failed");
  std::string output;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) output.append(buf, n);
  const int status = pclose(pipe);
  if (out != nullptr) *out = output;
  if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::InternalError(absl::StrCat("command failed: ", command, "\n", output));
  }
  return absl::OkStatus();
}

std::string ShellQuote(absl::string_view s) {
  return absl::StrCat("'", absl::StrReplaceAll(s, {{"'", "'\\''"}}), "'");
}

}  // namespace

absl::StatusOr<std::unique_ptr<PgServer>> PgServer::Start(const Options& options) {
  std::unique_ptr<PgServer> server(new PgServer());
  server->durable_ = options.durable;
  const char* bindir = getenv("PIICRYPT_PG_BINDIR");
  server->bindir_ = bindir != nullptr ? bindir : "/usr/lib/postgresql/15/bin";
  if (access((server->bindir_ + "/initdb").c_str(), X_OK) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("no PostgreSQL server binaries in ", server->bindir_,
                     " (Debian: apt-get install postgresql; or set PIICRYPT_PG_BINDIR)"));
  }
  char dir[] = "/tmp/piicrypt-pg-XXXXXX";
  if (mkdtemp(dir) == nullptr) return absl::InternalError("mkdtemp failed");
  server->dir_ = dir;
  if (geteuid() == 0) {
    const passwd* pw = getpwnam("postgres");
    if (pw == nullptr) {
      return absl::FailedPreconditionError(
          "running as root, but there is no 'postgres' user to run the server as");
    }
    if (chown(dir, pw->pw_uid, pw->pw_gid) != 0) return absl::InternalError("chown failed");
    server->run_as_ = "runuser -u postgres -- ";
  }
  // A port per process keeps the socket names of concurrent test binaries apart even if
  // they were ever to share a directory.
  server->port_ = 20000 + static_cast<int>(getpid() % 20000);
  absl::Status s = server->RunServerBinary(
      absl::StrCat("initdb -D ", server->dir_, "/data -U postgres -A trust -E UTF8 --locale=C -N"));
  if (!s.ok()) return s;
  if (absl::Status r = server->Restart(); !r.ok()) return r;
  return server;
}

PgServer::~PgServer() {
  if (running_) Stop().IgnoreError();
  if (!dir_.empty()) Shell(absl::StrCat("rm -rf ", ShellQuote(dir_)), nullptr).IgnoreError();
}

absl::Status PgServer::RunServerBinary(const std::string& args, std::string* out) const {
  return Shell(absl::StrCat(run_as_, bindir_, "/", args), out);
}

absl::Status PgServer::Restart() {
  if (running_) return absl::FailedPreconditionError("server already running");
  const std::string options =
      absl::StrCat("-k ", dir_, " -p ", port_, " -c listen_addresses= -c max_connections=60",
                   durable_ ? "" : " -c fsync=off -c full_page_writes=off");
  absl::Status s =
      RunServerBinary(absl::StrCat("pg_ctl -D ", dir_, "/data -l ", dir_,
                                   "/server.log -w -t 60 -o ", ShellQuote(options), " start"));
  if (!s.ok()) return s;
  running_ = true;
  return absl::OkStatus();
}

absl::Status PgServer::Stop() {
  if (!running_) return absl::FailedPreconditionError("server not running");
  absl::Status s = RunServerBinary(absl::StrCat("pg_ctl -D ", dir_, "/data -m fast -w -t 60 stop"));
  if (s.ok()) running_ = false;
  return s;
}

std::string PgServer::Url(absl::string_view database) const {
  return absl::StrCat("postgresql:///", database, "?host=", dir_, "&port=", port_,
                      "&user=postgres");
}

absl::StatusOr<std::string> PgServer::Psql(absl::string_view sql,
                                           absl::string_view database) const {
  std::string out;
  absl::Status s =
      Shell(absl::StrCat(bindir_, "/psql -X -q -A -t -v ON_ERROR_STOP=1 -h ", dir_, " -p ", port_,
                         " -U postgres -d ", database, " -c ", ShellQuote(sql)),
            &out);
  if (!s.ok()) return s;
  return out;
}

absl::Status PgServer::CreateDatabase(absl::string_view name) const {
  return Psql(absl::StrCat("CREATE DATABASE ", name)).status();
}

absl::StatusOr<int> PgServer::Sessions(absl::string_view database,
                                       absl::string_view application_name) const {
  absl::StatusOr<std::string> n =
      Psql(absl::StrCat("SELECT count(*) FROM pg_stat_activity WHERE datname = '", database,
                        "' AND application_name = '", application_name, "'"));
  if (!n.ok()) return n.status();
  int count = 0;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(*n), &count)) {
    return absl::InternalError("psql printed no count");
  }
  return count;
}

absl::Status PgServer::AwaitSessionsEnded(absl::string_view database,
                                          absl::string_view application_name,
                                          absl::Duration timeout) const {
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    absl::StatusOr<int> n = Sessions(database, application_name);
    if (!n.ok()) return n.status();
    if (*n == 0) return absl::OkStatus();
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat(*n, " sessions of ", application_name, " still open"));
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
}

PgServer* SharedPgServer(std::string* error) {
  static absl::StatusOr<std::unique_ptr<PgServer>>* server =
      new absl::StatusOr<std::unique_ptr<PgServer>>(PgServer::Start());
  // Stopped and removed at exit (the pointer above is never freed otherwise).
  static const int registered = [] {
    atexit([] {
      if (server->ok()) server->value().reset();
    });
    return 0;
  }();
  (void)registered;
  if (!server->ok()) {
    if (error != nullptr) *error = std::string(server->status().message());
    return nullptr;
  }
  return server->value().get();
}

}  // namespace piicrypt::testing
