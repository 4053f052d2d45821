// The piicrypt::sqlite component's entry point: registers the SQLite token store (sqlite:PATH) with
// the core (src/token/stores.h). Registration runs from piicrypt_link_sqlite(), which the consumers
// of the component call (see src/field/normalizers_component.cc for how), and from this object's
// own static initializer.
#include "piicrypt/export.h"
#include "src/subject/subject_stores.h"
#include "src/token/stores.h"

extern "C" PIICRYPT_EXPORT void piicrypt_link_sqlite(void) {
  static const bool registered = [] {
    piicrypt::internal::RegisterTokenStore(piicrypt::internal::StoreBackend::kSqlite,
                                           &piicrypt::internal::OpenSqliteTokenStore);
    // ... and the subject key store of the same database (src/subject/subject_stores.h).
    piicrypt::internal::RegisterSubjectKeyStore(piicrypt::internal::StoreBackend::kSqlite,
                                                &piicrypt::internal::OpenSqliteSubjectKeyStore);
    piicrypt::internal::RegisterSubjectIndexClearer(piicrypt::internal::StoreBackend::kSqlite,
                                                    &piicrypt::internal::ClearSqliteSubjectIndexes);
    return true;
  }();
  (void)registered;
}

namespace {
[[maybe_unused]] const bool kSqliteLinked = (piicrypt_link_sqlite(), true);
}  // namespace
