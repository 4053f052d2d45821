#include "src/kek/pkcs11_uri.h"

#include <cstdlib>
#include <utility>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "piicrypt/status_macros.h"
#include "src/secrets/secret_file.h"

namespace piicrypt::internal {
namespace {

constexpr absl::string_view kScheme = "pkcs11:";

bool IsUnreserved(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' ||
         c == '~';
}

// RFC 7512: pk11-path-res-avail and pk11-query-res-avail (besides unreserved and %XX).
bool IsPathChar(char c) {
  return IsUnreserved(c) || absl::string_view(":[]@!$'()*+,=&").find(c) != absl::string_view::npos;
}
bool IsQueryChar(char c) {
  return IsUnreserved(c) ||
         absl::string_view(":[]@!$'()*+,=/?|;").find(c) != absl::string_view::npos;
}

int HexValue(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (!absl::ascii_isxdigit(u)) return -1;
  return absl::ascii_isdigit(u) ? u - '0' : absl::ascii_tolower(u) - 'a' + 10;
}

// Percent-decodes `value` of attribute `name`; messages name the attribute, never the value.
absl::StatusOr<std::string> Decode(absl::string_view name, absl::string_view value, bool query) {
  std::string out;
  out.reserve(value.size());
  for (size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    if (c == '%') {
      if (i + 2 >= value.size()) {
        return absl::InvalidArgumentError(
            absl::StrCat("PKCS#11 URI: truncated percent-escape in '", name, "'"));
      }
      const int hi = HexValue(value[i + 1]);
      const int lo = HexValue(value[i + 2]);
      if (hi < 0 || lo < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("PKCS#11 URI: bad percent-escape in '", name, "'"));
      }
      const char decoded = static_cast<char>(hi * 16 + lo);
      if (decoded == '\0') {
        return absl::InvalidArgumentError(
            absl::StrCat("PKCS#11 URI: '", name, "' contains a NUL byte"));
      }
      out.push_back(decoded);
      i += 2;
      continue;
    }
    if (!(query ? IsQueryChar(c) : IsPathChar(c))) {
      return absl::InvalidArgumentError(absl::StrCat(
          "PKCS#11 URI: '", name, "' contains a character that must be percent-encoded"));
    }
    out.push_back(c);
  }
  return out;
}

std::string Encode(absl::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : value) {
    if (IsUnreserved(c)) {
      out.push_back(c);
    } else {
      const auto u = static_cast<unsigned char>(c);
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    }
  }
  return out;
}

struct Attribute {
  absl::string_view name;
  absl::string_view raw_value;
};

absl::StatusOr<std::vector<Attribute>> SplitAttributes(absl::string_view part, char separator,
                                                       absl::string_view where) {
  std::vector<Attribute> out;
  if (part.empty()) return out;
  for (absl::string_view item : absl::StrSplit(part, separator)) {
    const size_t eq = item.find('=');
    if (item.empty() || eq == absl::string_view::npos || eq == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("PKCS#11 URI: malformed ", where, " attribute (expected name=value)"));
    }
    const absl::string_view name = item.substr(0, eq);
    for (char c : name) {
      if (!(absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-')) {
        return absl::InvalidArgumentError(
            absl::StrCat("PKCS#11 URI: malformed ", where, " attribute name"));
      }
    }
    for (const Attribute& seen : out) {
      if (seen.name == name) {
        return absl::InvalidArgumentError(
            absl::StrCat("PKCS#11 URI: attribute '", name, "' appears twice"));
      }
    }
    out.push_back(Attribute{name, item.substr(eq + 1)});
  }
  return out;
}

}  // namespace

std::string Pkcs11Uri::Description() const {
  std::string out = absl::StrCat(kScheme, "token=", Encode(token), ";object=", Encode(object));
  if (id.has_value()) absl::StrAppend(&out, ";id=", Encode(*id));
  return out;
}

namespace {

// One attribute of the path (token, object, id, type) into `out`.
absl::Status ApplyPathAttribute(const Attribute& a, Pkcs11Uri& out, bool& have_token,
                                bool& have_object) {
  PIICRYPT_ASSIGN_OR_RETURN(std::string value, Decode(a.name, a.raw_value, /*query=*/false));
  if (value.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("PKCS#11 URI: '", a.name, "' is empty"));
  }
  if (a.name == "token") {
    if (value.size() > 32) {
      return absl::InvalidArgumentError("PKCS#11 URI: token labels have at most 32 bytes");
    }
    out.token = std::move(value);
    have_token = true;
  } else if (a.name == "object") {
    out.object = std::move(value);
    have_object = true;
  } else if (a.name == "id") {
    out.id = std::move(value);
  } else if (a.name == "type") {
    if (value != "secret-key") {
      return absl::InvalidArgumentError("PKCS#11 URI: a KEK is an object of type=secret-key");
    }
  } else {
    return absl::InvalidArgumentError(absl::StrCat("PKCS#11 URI: unsupported path attribute '",
                                                   a.name,
                                                   "' (supported: token, object, type, id)"));
  }
  return absl::OkStatus();
}

// pin-value, decoded into secret memory; the decoded copy is wiped, never echoed.
absl::Status ApplyPinValue(const Attribute& a, Pkcs11Uri& out) {
  absl::StatusOr<std::string> decoded = Decode(a.name, a.raw_value, /*query=*/true);
  if (!decoded.ok()) return decoded.status();
  absl::Cleanup wipe = [&decoded] { SecureWipe(decoded->data(), decoded->size()); };
  if (decoded->empty()) return absl::InvalidArgumentError("PKCS#11 URI: 'pin-value' is empty");
  if (decoded->size() > kMaxPinSize) {
    return absl::InvalidArgumentError("PKCS#11 URI: 'pin-value' is too long");
  }
  out.pin_value = SecretDataFromString(*decoded);
  return absl::OkStatus();
}

// One attribute of the query (module-path, pin-value, pin-source) into `out`.
absl::Status ApplyQueryAttribute(const Attribute& a, Pkcs11Uri& out) {
  if (a.name == "pin-value") return ApplyPinValue(a, out);
  PIICRYPT_ASSIGN_OR_RETURN(std::string value, Decode(a.name, a.raw_value, /*query=*/true));
  if (value.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("PKCS#11 URI: '", a.name, "' is empty"));
  }
  if (a.name == "module-path") {
    if (value.front() != '/') {
      return absl::InvalidArgumentError("PKCS#11 URI: 'module-path' must be an absolute path");
    }
    out.module_path = std::move(value);
  } else if (a.name == "pin-source") {
    if (absl::StartsWithIgnoreCase(value, "file:")) value.erase(0, 5);
    if (value.empty() || value.front() != '/') {
      return absl::InvalidArgumentError(
          "PKCS#11 URI: 'pin-source' must be file:/absolute/path or an absolute path");
    }
    out.pin_source = std::move(value);
  } else if (a.name == "module-name") {
    return absl::InvalidArgumentError(
        "PKCS#11 URI: 'module-name' is not supported; give 'module-path'");
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("PKCS#11 URI: unsupported query attribute '", a.name,
                     "' (supported: module-path, pin-value, pin-source)"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Pkcs11Uri> ParsePkcs11Uri(absl::string_view uri) {
  if (uri.size() > kMaxPkcs11UriSize) {
    return absl::InvalidArgumentError("PKCS#11 URI is too long");
  }
  if (!absl::StartsWithIgnoreCase(uri, kScheme)) {
    return absl::InvalidArgumentError("not a PKCS#11 URI (expected pkcs11:...)");
  }
  absl::string_view rest = uri.substr(kScheme.size());
  absl::string_view path = rest, query;
  if (const size_t q = rest.find('?'); q != absl::string_view::npos) {
    path = rest.substr(0, q);
    query = rest.substr(q + 1);
    if (query.empty()) return absl::InvalidArgumentError("PKCS#11 URI: empty query after '?'");
  }
  PIICRYPT_ASSIGN_OR_RETURN(std::vector<Attribute> path_attrs, SplitAttributes(path, ';', "path"));
  PIICRYPT_ASSIGN_OR_RETURN(std::vector<Attribute> query_attrs,
                            SplitAttributes(query, '&', "query"));

  Pkcs11Uri out;
  bool have_token = false, have_object = false;
  for (const Attribute& a : path_attrs) {
    PIICRYPT_RETURN_IF_ERROR(ApplyPathAttribute(a, out, have_token, have_object));
  }
  for (const Attribute& a : query_attrs) PIICRYPT_RETURN_IF_ERROR(ApplyQueryAttribute(a, out));
  if (!have_token) return absl::InvalidArgumentError("PKCS#11 URI: 'token' is required");
  if (!have_object) return absl::InvalidArgumentError("PKCS#11 URI: 'object' is required");
  if (out.module_path.empty()) {
    return absl::InvalidArgumentError("PKCS#11 URI: 'module-path' is required");
  }
  if (out.pin_value.has_value() && out.pin_source.has_value()) {
    return absl::InvalidArgumentError(
        "PKCS#11 URI: give either 'pin-value' or 'pin-source', not both");
  }
  return out;
}

absl::StatusOr<SecretData> ResolvePin(const Pkcs11Uri& uri) {
  SecretData pin;
  if (uri.pin_value.has_value()) {
    pin = *uri.pin_value;
  } else if (uri.pin_source.has_value()) {
    PIICRYPT_ASSIGN_OR_RETURN(std::string contents,
                              ReadSecretFile(*uri.pin_source, kMaxPinSize + 2, "PIN file"));
    absl::Cleanup wipe = [&contents] { SecureWipe(contents.data(), contents.size()); };
    absl::string_view line(contents);
    if (const size_t nl = line.find('\n'); nl != absl::string_view::npos) line = line.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pin = SecretDataFromString(line);
  } else if (const char* env = std::getenv(kPinEnvironmentVariable); env != nullptr) {
    pin = SecretDataFromString(env);
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "no PIN for the PKCS#11 token: give pin-value or pin-source in the URI, or set ",
        kPinEnvironmentVariable));
  }
  if (pin.empty()) return absl::InvalidArgumentError("the PKCS#11 PIN is empty");
  if (pin.size() > kMaxPinSize) return absl::InvalidArgumentError("the PKCS#11 PIN is too long");
  return pin;
}

}  // namespace piicrypt::internal
