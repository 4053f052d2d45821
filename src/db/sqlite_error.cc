#include <string>

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "src/db/db_error.h"

namespace piicrypt::internal {

std::string SqliteMessage(sqlite3* db, int code) {
  if (db != nullptr && (code & 0xff) == SQLITE_ERROR) {
    const absl::string_view message = sqlite3_errmsg(db);
    for (absl::string_view known : {"no such table: ", "no such column: "}) {
      if (absl::StartsWith(message, known) && IsPlainDbIdentifier(message.substr(known.size()))) {
        return std::string(message);
      }
    }
  }
  return sqlite3_errstr(code);
}

}  // namespace piicrypt::internal
