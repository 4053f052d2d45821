// store_backend.h: the databases that hold piicrypt's own stores (token stores,
// subject key stores), as named by their URLs ("sqlite:PATH", "postgresql://...").
//
// Each back-end is in the component of its database (piicrypt::sqlite, piicrypt::postgres)
// and registers its openers with the core when linked; the core's registries
// (src/token/stores.h, src/subject/subject_stores.h) are keyed by this value. Header only:
// the core uses it without linking SQLite or libpq.
#ifndef PIICRYPT_SRC_DB_STORE_BACKEND_H_
#define PIICRYPT_SRC_DB_STORE_BACKEND_H_

namespace piicrypt::internal {

enum class StoreBackend { kSqlite, kPostgres };

}  // namespace piicrypt::internal

#endif  // PIICRYPT_SRC_DB_STORE_BACKEND_H_
