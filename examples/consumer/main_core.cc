// A program that links piicrypt::core only: field encryption with a policy, a blind index
// with the exact normalizer, FF1, masks. It needs none of libpq, ICU, libphonenumber or
// SQLite (scripts/package checks the binary), and a policy or store that needs one of the
// other components fails, naming it.
#include <cstdio>
#include <optional>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "piicrypt/field_cryptor.h"
#include "piicrypt/keyset.h"
#include "piicrypt/policy.h"
#include "piicrypt/status_macros.h"
#include "piicrypt/subtle/token_store.h"

namespace {

// `status` must be kFailedPrecondition and name `component`.
absl::Status ExpectNeedsComponent(const absl::Status& status, const char* what,
                                  const char* component) {
  if (absl::IsFailedPrecondition(status) && absl::StrContains(status.message(), component)) {
    std::printf("core consumer: %s without %s: %s\n", what, component,
                std::string(status.message()).c_str());
    return absl::OkStatus();
  }
  return absl::InternalError(std::string(what) + " without " + component +
                             " did not fail naming the component: " + status.ToString());
}

absl::Status Run() {
  PIICRYPT_ASSIGN_OR_RETURN(piicrypt::Keyset keyset, piicrypt::Keyset::Generate());
  // An FF1 value carries no key id: the rule pins the data key its column is under.
  const std::string policy_text =
      absl::StrCat(R"pb(
                     field {
                       name: "orders.customer_ref"
                       kind: KIND_IDENTIFIER
                       mode: MODE_RANDOMIZED
                       bind_record: true
                       blind_index { bits: 32 normalizer: "exact" }
                     }
                     field { name: "orders.card" kind: KIND_CARD mode: MODE_FORMAT_PRESERVING
                             format_preserving { card { luhn: LUHN_INVALID }
                                                 key_id:)pb",
                   keyset.primary_key_id(), " } }");
  PIICRYPT_ASSIGN_OR_RETURN(piicrypt::Policy policy, piicrypt::Policy::ParseTextProto(policy_text));
  PIICRYPT_ASSIGN_OR_RETURN(auto cryptor, piicrypt::FieldCryptor::Create(keyset, policy));
  PIICRYPT_ASSIGN_OR_RETURN(auto stored, cryptor->Encrypt("orders.customer_ref", "C-1001", "o-1"));
  PIICRYPT_ASSIGN_OR_RETURN(auto back, cryptor->Decrypt("orders.customer_ref", stored, "o-1"));
  PIICRYPT_ASSIGN_OR_RETURN(auto card, cryptor->Encrypt("orders.card", "4111111111111111", "o-1"));
  PIICRYPT_ASSIGN_OR_RETURN(auto card_back, cryptor->Decrypt("orders.card", card, "o-1"));
  PIICRYPT_ASSIGN_OR_RETURN(auto a, cryptor->BlindIndex("orders.customer_ref", "C-1001"));
  PIICRYPT_ASSIGN_OR_RETURN(auto b, cryptor->BlindIndex("orders.customer_ref", "C-1001"));
  if (back != std::optional<std::string>("C-1001") ||
      card_back != std::optional<std::string>("4111111111111111") || card->size() != 16 || a != b) {
    return absl::InternalError("core field API round trip mismatch");
  }
  // Masks are in the core: no ICU.
  const std::string initials =
      piicrypt::MaskValue(piicrypt::MaskStyle::kInitials, "\xC3\xA9mile zola");
  if (initials != "\xC3\x89. Z.") return absl::InternalError("initials mask: " + initials);
  std::printf("core consumer: FieldCryptor, exact blind index, FF1 card, masks: ok\n");

  PIICRYPT_RETURN_IF_ERROR(ExpectNeedsComponent(piicrypt::Policy::ParseTextProto(R"pb(
                                                  field {
                                                    name: "orders.phone"
                                                    kind: KIND_PHONE
                                                    mode: MODE_RANDOMIZED
                                                    blind_index { bits: 32 }
                                                  }
                                                )pb")
                                                    .status(),
                                                "a phone blind index", "piicrypt::normalizers"));
  PIICRYPT_RETURN_IF_ERROR(
      ExpectNeedsComponent(piicrypt::TokenStore::Open("sqlite:/nonexistent/tokens.db").status(),
                           "a sqlite: token store", "piicrypt::sqlite"));
  PIICRYPT_RETURN_IF_ERROR(
      ExpectNeedsComponent(piicrypt::TokenStore::Open("postgresql://localhost/tokens").status(),
                           "a postgresql:// token store", "piicrypt::postgres"));
  return absl::OkStatus();
}

}  // namespace

int main() {
  absl::Status s = Run();
  if (!s.ok()) {
    std::fprintf(stderr, "core consumer: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  return 0;
}
