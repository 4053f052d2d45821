// piicrypt kek ... and piicrypt keyset ...: KEKs, keysets and the key lifecycle.
#include <time.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "piicrypt/kek.h"
#include "piicrypt/keyset.h"
#include "piicrypt/secret_data.h"
#include "tools/piicrypt/commands.h"

namespace piicrypt::cli {
namespace {

constexpr char kExitFooter[] =
    "Exit status: 0 success, 1 failed operation (wrong KEK, corrupt file, forbidden state "
    "change), 2 bad usage.";

// Options shared by the keyset subcommands, owned by the callbacks.
struct KeysetArgs {
  std::string kek;
  std::string new_kek;
  std::string file;
  std::string out;
  std::string id;
  bool json = false;
  bool reveal = false;
};

// Parses a key id as printed by `keyset list`: a decimal number in 1..4294967295.
bool ParseKeyId(const std::string& text, uint32_t& id) {
  uint64_t value = 0;
  if (text.empty() || text.size() > 10) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  if (!absl::SimpleAtoi(text, &value) || value == 0 || value > UINT32_MAX) return false;
  id = static_cast<uint32_t>(value);
  return true;
}

std::string Rfc3339(int64_t unix_seconds) {
  const time_t t = static_cast<time_t>(unix_seconds);
  struct tm tm;
  char buf[32];
  if (gmtime_r(&t, &tm) == nullptr || strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
    return "1970-01-01T00:00:00Z";
  }
  return buf;
}

CLI::App* AddKeysetSubcommand(CLI::App* keyset, const std::string& name,
                              const std::string& description, KeysetArgs& args) {
  CLI::App* sub = keyset->add_subcommand(name, description);
  sub->add_option("--kek", args.kek, kKekHelp)->required();
  sub->footer(std::string(kKekFooter) + kExitFooter);
  return sub;
}

void PrintKeysJson(const Keyset& keyset, bool with_material) {
  const std::vector<KeyInfo> keys = keyset.ListKeys();
  std::string out;
  // Reserved up front, so that no reallocation leaves key material behind unwiped.
  out.reserve(64 + keys.size() * 192);
  absl::StrAppend(&out, "{\"primary_key_id\": ", keyset.primary_key_id(), ", \"keys\": [");
  bool first = true;
  for (const KeyInfo& key : keys) {
    absl::StrAppend(&out, first ? "" : ", ", "{\"id\": ", key.id, ", \"status\": \"",
                    KeyStatusName(key.status), "\", \"created\": \"",
                    Rfc3339(key.created_unix_seconds), "\"");
    first = false;
    if (with_material && key.status != KeyStatus::kDestroyed) {
      auto material = keyset.KeyMaterial(key.id, InsecureSecretKeyAccess::Get());
      if (material.ok()) {
        static constexpr char kHex[] = "0123456789abcdef";
        out += ", \"material_hex\": \"";
        for (uint8_t b : *material) {
          out.push_back(kHex[b >> 4]);
          out.push_back(kHex[b & 15]);
        }
        out += "\"";
      }
    }
    out += "}";
  }
  out += "]}\n";
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
  internal::SecureWipe(out.data(), out.size());
}

void PrintKeysTable(const Keyset& keyset) {
  std::printf("%-10s  %-9s  %-20s  %s\n", "ID", "STATUS", "CREATED", "PRIMARY");
  for (const KeyInfo& key : keyset.ListKeys()) {
    std::printf("%-10u  %-9s  %-20s  %s\n", key.id, std::string(KeyStatusName(key.status)).c_str(),
                Rfc3339(key.created_unix_seconds).c_str(), key.primary ? "*" : "");
  }
}

// `keyset promote|enable|disable|destroy ID`.
void AddStateCommand(CLI::App* keyset, const std::string& name, const std::string& description,
                     absl::Status (Keyset::*change)(uint32_t), int& exit_code) {
  auto args = std::make_shared<KeysetArgs>();
  CLI::App* sub = AddKeysetSubcommand(keyset, name, description, *args);
  sub->add_option("ID", args->id, "Key id, as printed by `piicrypt keyset list`")->required();
  sub->add_option("FILE", args->file, "The keyset file")->required();
  sub->callback([args, change, &exit_code] {
    uint32_t id = 0;
    if (!ParseKeyId(args->id, id)) {
      PrintError(absl::StrCat("'", args->id, "' is not a key id (a number from 1 to 4294967295)"));
      exit_code = kExitUsage;
      return;
    }
    std::unique_ptr<Kek> kek;
    if (!OpenKek(args->kek, kek, exit_code)) return;
    absl::Status s =
        Keyset::Update(args->file, *kek, [&](Keyset& ks) { return (ks.*change)(id); }).status();
    exit_code = s.ok() ? kExitOk : ReportFailure(s);
  });
}

}  // namespace

// Checks a KEK URI's syntax (bad usage, exit 2) and opens it (failed operation, exit 1).
bool OpenKek(const std::string& uri, std::unique_ptr<Kek>& kek, int& exit_code) {
  if (absl::Status s = Kek::ValidateUri(uri); !s.ok()) {
    PrintError(std::string(s.message()));
    exit_code = kExitUsage;
    return false;
  }
  auto opened = Kek::Open(uri);
  if (!opened.ok()) {
    exit_code = ReportFailure(opened.status());
    return false;
  }
  kek = std::move(*opened);
  return true;
}

std::optional<Keyset> ReadKeyset(const std::string& kek_uri, const std::string& path,
                                 int& exit_code) {
  std::unique_ptr<Kek> kek;
  if (!OpenKek(kek_uri, kek, exit_code)) return std::nullopt;
  absl::StatusOr<Keyset> keyset = Keyset::Read(path, *kek);
  if (!keyset.ok()) {
    exit_code = ReportFailure(keyset.status());
    return std::nullopt;
  }
  return *std::move(keyset);
}

namespace {

// `kek create URI`.
void AddKekCommands(CLI::App& app, int& exit_code) {
  CLI::App* kek = app.add_subcommand("kek", "Create key-encryption keys (KEKs).");
  kek->require_subcommand(1);
  kek->footer(std::string(kKekFooter) + kExitFooter);
  auto kek_uri = std::make_shared<std::string>();
  CLI::App* kek_create = kek->add_subcommand(
      "create",
      "Create a new KEK: a key file of 32 random bytes (mode 0600), or a "
      "non-extractable AES-256 key object in a PKCS#11 token. Never overwrites.");
  kek_create->add_option("URI", *kek_uri, kKekHelp)->required();
  kek_create->footer(std::string(kKekFooter) +
                     "Examples:\n"
                     "  piicrypt kek create file:/etc/piicrypt/kek.key\n"
                     "  PIICRYPT_PKCS11_PIN=... piicrypt kek create "
                     "'pkcs11:token=prod;object=piicrypt-kek?module-path=/usr/lib/softhsm/"
                     "libsofthsm2.so'\n" +
                     kExitFooter);
  kek_create->callback([kek_uri, &exit_code] {
    if (absl::Status s = Kek::ValidateUri(*kek_uri); !s.ok()) {
      PrintError(std::string(s.message()));
      exit_code = kExitUsage;
      return;
    }
    absl::Status s = Kek::Create(*kek_uri);
    exit_code = s.ok() ? kExitOk : ReportFailure(s);
  });
}

// `keyset create --out FILE`: prints the primary key's id.
void AddKeysetCreate(CLI::App* keyset, int& exit_code) {
  auto args = std::make_shared<KeysetArgs>();
  CLI::App* sub = AddKeysetSubcommand(
      keyset, "create", "Create a keyset with one primary key; prints the key's id.", *args);
  sub->add_option("--out", args->out, "The new keyset file (never overwritten)")->required();
  sub->footer(std::string(kKekFooter) +
              "Example:\n  piicrypt keyset create --kek file:/etc/piicrypt/kek.key "
              "--out /etc/piicrypt/orders.keyset\n" +
              kExitFooter);
  sub->callback([args, &exit_code] {
    std::unique_ptr<Kek> k;
    if (!OpenKek(args->kek, k, exit_code)) return;
    auto generated = Keyset::Generate();
    if (!generated.ok()) {
      exit_code = ReportFailure(generated.status());
      return;
    }
    if (absl::Status s = generated->WriteNew(args->out, *k); !s.ok()) {
      exit_code = ReportFailure(s);
      return;
    }
    std::printf("%u\n", generated->primary_key_id());
    exit_code = kExitOk;
  });
}

// `keyset list FILE [--json]`.
void AddKeysetList(CLI::App* keyset, int& exit_code) {
  auto args = std::make_shared<KeysetArgs>();
  CLI::App* sub =
      AddKeysetSubcommand(keyset, "list",
                          "List the keys of a keyset: id, status, creation time, primary. "
                          "Never shows key material.",
                          *args);
  sub->add_option("FILE", args->file, "The keyset file")->required();
  sub->add_flag("--json", args->json,
                "Print {\"primary_key_id\": N, \"keys\": [{\"id\": N, \"status\": "
                "\"ENABLED\", \"created\": \"RFC 3339 time\"}, ...]}");
  sub->footer(std::string(kKekFooter) +
              "Example:\n  piicrypt keyset list --kek file:/etc/piicrypt/kek.key "
              "/etc/piicrypt/orders.keyset --json\n" +
              kExitFooter);
  sub->callback([args, &exit_code] {
    std::optional<Keyset> read = ReadKeyset(args->kek, args->file, exit_code);
    if (!read.has_value()) return;
    if (args->json) {
      PrintKeysJson(*read, /*with_material=*/false);
    } else {
      PrintKeysTable(*read);
    }
    exit_code = kExitOk;
  });
}

// `keyset rotate FILE` (promote) or `keyset add FILE`: prints the new key's id.
void AddKeysetNewKey(CLI::App* keyset, bool promote, int& exit_code) {
  auto args = std::make_shared<KeysetArgs>();
  CLI::App* sub = AddKeysetSubcommand(
      keyset, promote ? "rotate" : "add",
      promote ? "Add a new key and make it primary at once; prints its id. Use add + "
                "promote instead when several servers must learn the key first."
              : "Add a new enabled key that is not yet primary; prints its id. Deploy the "
                "keyset everywhere, then promote it.",
      *args);
  sub->add_option("FILE", args->file, "The keyset file")->required();
  sub->callback([args, promote, &exit_code] {
    std::unique_ptr<Kek> k;
    if (!OpenKek(args->kek, k, exit_code)) return;
    uint32_t new_id = 0;
    absl::Status s = Keyset::Update(args->file, *k, [&](Keyset& ks) -> absl::Status {
                       auto id = promote ? ks.Rotate() : ks.Add();
                       if (!id.ok()) return id.status();
                       new_id = *id;
                       return absl::OkStatus();
                     }).status();
    if (!s.ok()) {
      exit_code = ReportFailure(s);
      return;
    }
    std::printf("%u\n", new_id);
    exit_code = kExitOk;
  });
}

// `keyset rewrap --new-kek URI FILE`.
void AddKeysetRewrap(CLI::App* keyset, int& exit_code) {
  auto args = std::make_shared<KeysetArgs>();
  CLI::App* sub = AddKeysetSubcommand(
      keyset, "rewrap",
      "Re-encrypt a keyset under another KEK (KEK rotation, or moving between a key file "
      "and an HSM). Data keys, and so all data, stay as they are.",
      *args);
  sub->add_option("--new-kek", args->new_kek, "URI of the KEK to store the keyset under")
      ->required();
  sub->add_option("FILE", args->file, "The keyset file, replaced atomically")->required();
  sub->footer(std::string(kKekFooter) +
              "Example:\n  piicrypt keyset rewrap --kek file:/etc/piicrypt/kek.key "
              "--new-kek 'pkcs11:token=prod;object=piicrypt-kek?module-path=/usr/lib/"
              "softhsm/libsofthsm2.so' /etc/piicrypt/orders.keyset\n" +
              kExitFooter);
  sub->callback([args, &exit_code] {
    if (absl::Status s = Kek::ValidateUri(args->new_kek); !s.ok()) {
      PrintError(absl::StrCat("--new-kek: ", s.message()));
      exit_code = kExitUsage;
      return;
    }
    std::unique_ptr<Kek> old_kek, new_kek;
    if (!OpenKek(args->kek, old_kek, exit_code)) return;
    if (!OpenKek(args->new_kek, new_kek, exit_code)) return;
    absl::Status s = Keyset::Rewrap(args->file, *old_kek, *new_kek);
    exit_code = s.ok() ? kExitOk : ReportFailure(s);
  });
}

// `keyset export-cleartext FILE --i-understand-this-reveals-keys`.
void AddKeysetExportCleartext(CLI::App* keyset, int& exit_code) {
  auto args = std::make_shared<KeysetArgs>();
  CLI::App* sub = AddKeysetSubcommand(
      keyset, "export-cleartext",
      "Print the keyset WITH its key material as JSON, for migrations and "
      "interoperability tests. Anyone who sees the output can decrypt all data.",
      *args);
  sub->add_option("FILE", args->file, "The keyset file")->required();
  sub->add_flag("--i-understand-this-reveals-keys", args->reveal,
                "Required: confirms that the output reveals every key");
  sub->footer(std::string(kKekFooter) +
              "Prints the JSON of `keyset list --json` with \"material_hex\" on each key "
              "(destroyed keys have none).\n" +
              kExitFooter);
  sub->callback([args, &exit_code] {
    if (!args->reveal) {
      PrintError(
          "export-cleartext prints every key in the clear; refusing without "
          "--i-understand-this-reveals-keys");
      exit_code = kExitUsage;
      return;
    }
    std::optional<Keyset> read = ReadKeyset(args->kek, args->file, exit_code);
    if (!read.has_value()) return;
    PrintKeysJson(*read, /*with_material=*/true);
    exit_code = kExitOk;
  });
}

}  // namespace

void AddKeyCommands(CLI::App& app, int& exit_code) {
  AddKekCommands(app, exit_code);

  CLI::App* keyset =
      app.add_subcommand("keyset",
                         "Create keysets and run the key lifecycle: rotate, add, promote, enable, "
                         "disable, destroy, rewrap under another KEK.");
  keyset->require_subcommand(1);
  keyset->footer(
      "A keyset holds data keys (random 32-bit id, status ENABLED/DISABLED/DESTROYED, 32 bytes "
      "of root material); one enabled key is primary and encrypts new values, every enabled "
      "key decrypts. The file is only ever stored encrypted under the KEK, replaced "
      "atomically (mode 0600), and changed under a lock (FILE.lock).\n"
      "A production rotation: add, deploy, promote, re-encrypt, disable, destroy "
      "(docs/KEYS.md).\n" +
      std::string(kExitFooter));

  AddKeysetCreate(keyset, exit_code);
  AddKeysetList(keyset, exit_code);
  AddKeysetNewKey(keyset, /*promote=*/true, exit_code);   // rotate
  AddKeysetNewKey(keyset, /*promote=*/false, exit_code);  // add
  AddStateCommand(keyset, "promote",
                  "Make an enabled key the primary: new values are encrypted under it.",
                  &Keyset::Promote, exit_code);
  AddStateCommand(keyset, "enable", "Enable a disabled key again: values under it decrypt again.",
                  &Keyset::Enable, exit_code);
  AddStateCommand(keyset, "disable",
                  "Disable a key: values under it no longer decrypt until it is enabled "
                  "again. The primary key cannot be disabled.",
                  &Keyset::Disable, exit_code);
  AddStateCommand(keyset, "destroy",
                  "Erase a disabled key's material for good (crypto-shredding): values under "
                  "it can never be decrypted again. The primary key cannot be destroyed.",
                  &Keyset::Destroy, exit_code);

  AddKeysetRewrap(keyset, exit_code);
  AddKeysetExportCleartext(keyset, exit_code);
}

}  // namespace piicrypt::cli
