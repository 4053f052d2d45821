// subject_stores.h: the subject key store back-ends behind SubjectKeyStore::Open
// (include/piicrypt/subject_key_store.h). The SQLite back-end is part of the piicrypt::sqlite
// component, the PostgreSQL one of piicrypt::postgres; they register their openers with the
// core when linked (src/token/sqlite_component.cc, postgres_component.cc), so that the core
// stays free of SQLite and libpq.
#ifndef PIICRYPT_SRC_SUBJECT_SUBJECT_STORES_H_
#define PIICRYPT_SRC_SUBJECT_SUBJECT_STORES_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "piicrypt/export.h"
#include "piicrypt/subject_key_store.h"
#include "src/db/store_backend.h"

namespace piicrypt::internal {

// The schema version this library writes and reads (piicrypt_subject_schema_version).
inline constexpr int kSubjectSchemaVersion = 1;

using SubjectKeyStoreOpener = absl::StatusOr<std::unique_ptr<SubjectKeyStore>> (*)(
    const std::string& location, const SubjectKeyStoreOptions& options);

// Registers (or replaces) the opener of `backend`. Thread-safe.
PIICRYPT_EXPORT void RegisterSubjectKeyStore(StoreBackend backend, SubjectKeyStoreOpener opener);

// The openers of the back-ends, called by the components' registration.
absl::StatusOr<std::unique_ptr<SubjectKeyStore>> OpenSqliteSubjectKeyStore(
    const std::string& path, const SubjectKeyStoreOptions& options);
absl::StatusOr<std::unique_ptr<SubjectKeyStore>> OpenPostgresSubjectKeyStore(
    const std::string& uri, const SubjectKeyStoreOptions& options);

}  // namespace piicrypt::internal

#endif  // PIICRYPT_SRC_SUBJECT_SUBJECT_STORES_H_
