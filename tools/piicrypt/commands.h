// commands.h: the subcommands of the piicrypt tool. Each group registers its subcommands
// on the app; a subcommand's callback stores its exit status in `exit_code`:
// 0 success, 1 failed operation, 2 bad usage (docs/CLI.md).
#ifndef PIICRYPT_TOOLS_PIICRYPT_COMMANDS_H_
#define PIICRYPT_TOOLS_PIICRYPT_COMMANDS_H_

#include <memory>
#include <optional>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "piicrypt/kek.h"
#include "piicrypt/keyset.h"

namespace piicrypt::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;

// Prints "piicrypt: <message>" on stderr as one line.
void PrintError(const std::string& message);
// Prints a status as one line on stderr and maps it to an exit code: kInvalidArgument
// for usage problems is the caller's choice; anything else here is kExitFailed.
int ReportFailure(const absl::Status& status);

// Help texts of the --kek option, shared by every subcommand that takes it.
inline constexpr char kKekHelp[] =
    "KEK URI: file:PATH (a 32-byte key file of mode 0600 owned by this user, named "
    "directly, not through a symbolic link) or "
    "pkcs11:token=T;object=O?module-path=/path/module.so[&pin-source=file:PATH] "
    "(PIN from pin-value, pin-source (a file under the same rule) or $PIICRYPT_PKCS11_PIN)";

inline constexpr char kKekFooter[] =
    "KEK URIs:\n"
    "  file:/etc/piicrypt/kek.key\n"
    "      32 random bytes, mode 0600; refused if group or others may access it (chmod 600),\n"
    "      if another user owns it (chown), or if PATH is a symbolic link.\n"
    "  pkcs11:token=prod;object=piicrypt-kek?module-path=/usr/lib/softhsm/libsofthsm2.so\n"
    "      a non-extractable AES-256 key inside an HSM (RFC 7512 URI). PIN: pin-value=...,\n"
    "      pin-source=file:/run/secrets/pin, or the PIICRYPT_PKCS11_PIN environment variable\n"
    "      (prefer the last two: command lines are visible to other users). A pin-source\n"
    "      file is held to the rule of key files: mode 0600, owned by this user, no symlink.\n";

inline constexpr char kStoreHelp[] =
    "Token store URL: sqlite:PATH or postgresql://... A SQLite file is created with mode "
    "0600 if missing; an existing one must be owned by this user, have no permission bit "
    "for group or others (chmod 600) and not be a symbolic link";

// Checks a KEK URI's syntax (bad usage: prints the error, sets exit_code 2) and opens it
// (failed operation: exit_code 1). Shared by every subcommand that takes --kek.
bool OpenKek(const std::string& uri, std::unique_ptr<Kek>& kek, int& exit_code);
// OpenKek, then reads the keyset file at `path` under that KEK (a failure: exit_code 1).
std::optional<Keyset> ReadKeyset(const std::string& kek_uri, const std::string& path,
                                 int& exit_code);

void AddKatCommand(CLI::App& app, int& exit_code);
void AddKeyCommands(CLI::App& app, int& exit_code);       // kek ..., keyset ...
void AddFieldCommands(CLI::App& app, int& exit_code);     // encrypt, decrypt, blind-index
void AddTokenCommands(CLI::App& app, int& exit_code);     // tokenize, detokenize, rekey-tokens,
                                                          // tokens erase|delete|purge-expired
void AddReencryptCommand(CLI::App& app, int& exit_code);  // reencrypt
void AddMaskCommand(CLI::App& app, int& exit_code);       // mask
void AddPlanCommand(CLI::App& app, int& exit_code);       // plan-index
void AddSubjectCommands(CLI::App& app, int& exit_code);   // subject forget|rewrap

}  // namespace piicrypt::cli

#endif  // PIICRYPT_TOOLS_PIICRYPT_COMMANDS_H_
