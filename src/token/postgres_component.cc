// The piicrypt::postgres component's entry point: registers the PostgreSQL token store
// (postgresql://...) with the core (src/token/stores.h). Registration runs from
// piicrypt_link_postgres(), which the consumers of the component call (see
// src/field/normalizers_component.cc for how), and from this object's own static initializer.
#include "piicrypt/export.h"
#include "src/subject/subject_stores.h"
#include "src/token/stores.h"

extern "C" PIICRYPT_EXPORT void piicrypt_link_postgres(void) {
  static const bool registered = [] {
    piicrypt::internal::RegisterTokenStore(piicrypt::internal::StoreBackend::kPostgres,
                                           &piicrypt::internal::OpenPostgresTokenStore);
    // ... and the subject key store of the same database (src/subject/subject_stores.h).
    piicrypt::internal::RegisterSubjectKeyStore(piicrypt::internal::StoreBackend::kPostgres,
                                                &piicrypt::internal::OpenPostgresSubjectKeyStore);
    piicrypt::internal::RegisterSubjectIndexClearer(
        piicrypt::internal::StoreBackend::kPostgres,
        &piicrypt::internal::ClearPostgresSubjectIndexes);
    return true;
  }();
  (void)registered;
}

namespace {
[[maybe_unused]] const bool kPostgresLinked = (piicrypt_link_postgres(), true);
}  // namespace
