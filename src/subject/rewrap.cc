#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "piicrypt/status_macros.h"
#include "piicrypt/subject_rewrap.h"
#include "src/subject/subject_keys.h"

namespace piicrypt {
namespace {

// One row: rewrapped (if `write`) or checked. Errors other than a row that does not
// unwrap end the walk.
absl::Status VisitRow(const internal::SubjectKeyring& ring, const SubjectKeyStore& store,
                      const SubjectKeyRow& row, bool write, SubjectRewrapSummary& s) {
  absl::StatusOr<uint32_t> wrap_id = ring.WrapKeyIdOf(row);
  absl::StatusOr<SecretData> key = ring.Unwrap(row);
  if (!wrap_id.ok() || !key.ok()) {
    ++s.failed;
    return absl::OkStatus();
  }
  if (*wrap_id == ring.primary_key_id()) {
    ++s.current;
    return absl::OkStatus();
  }
  if (!write) {
    ++s.not_primary;
    return absl::OkStatus();
  }
  PIICRYPT_ASSIGN_OR_RETURN(std::string wrapped, ring.Wrap(*key, row.lookup, row.key_id));
  PIICRYPT_ASSIGN_OR_RETURN(bool replaced,
                            store.Replace(row.lookup, row.key_id, row.wrapped, wrapped));
  ++(replaced ? s.rewrapped : s.changed);
  return absl::OkStatus();
}

absl::StatusOr<SubjectRewrapSummary> Walk(const Keyset& keyset, const SubjectKeyStore& store,
                                          const SubjectRewrapOptions& options, bool write) {
  if (options.batch < 1 || options.batch > 100000) {
    return absl::InvalidArgumentError("subject rewrap: batch must be 1 to 100000");
  }
  PIICRYPT_ASSIGN_OR_RETURN(std::unique_ptr<internal::SubjectKeyring> ring,
                            internal::SubjectKeyring::Create(keyset));
  SubjectRewrapSummary s;
  PIICRYPT_ASSIGN_OR_RETURN(s.rows_at_start, store.Count());
  std::string after;
  while (true) {
    PIICRYPT_ASSIGN_OR_RETURN(std::vector<SubjectKeyRow> rows, store.List(after, options.batch));
    for (const SubjectKeyRow& row : rows) {
      PIICRYPT_RETURN_IF_ERROR(VisitRow(*ring, store, row, write, s));
      ++s.walked;
      after = row.lookup;
    }
    if (options.progress) options.progress(s);
    if (rows.size() < options.batch) break;
  }
  PIICRYPT_ASSIGN_OR_RETURN(s.rows_at_end, store.Count());
  return s;
}

}  // namespace

int64_t SubjectRewrapSummary::Shortfall() const {
  return std::max<int64_t>(0, std::min(rows_at_start, rows_at_end) - walked);
}

absl::StatusOr<SubjectRewrapSummary> RewrapSubjectKeys(const Keyset& keyset,
                                                       const SubjectKeyStore& store,
                                                       const SubjectRewrapOptions& options) {
  return Walk(keyset, store, options, /*write=*/true);
}

absl::StatusOr<SubjectRewrapSummary> VerifySubjectKeys(const Keyset& keyset,
                                                       const SubjectKeyStore& store,
                                                       const SubjectRewrapOptions& options) {
  return Walk(keyset, store, options, /*write=*/false);
}

}  // namespace piicrypt
