// commands.h: the subcommands of the piicrypt tool. Each group registers its subcommands
// on the app; a subcommand's callback stores its exit status in `exit_code`:
// 0 success, 1 failed operation, 2 bad usage (DESIGN.md, command-line contract).
#ifndef PIICRYPT_TOOLS_PIICRYPT_COMMANDS_H_
#define PIICRYPT_TOOLS_PIICRYPT_COMMANDS_H_

#include <memory>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "piicrypt/kek.h"

namespace piicrypt::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;

// Prints "piicrypt: <message>" on stderr as one line.
void PrintError(const std::string& message);
// Prints a status as one line on stderr and maps it to an exit code: kInvalidArgument
// for usage problems is the caller's choice; anything else here is kExitFailed.
int ReportFailure(const absl::Status& status);

// Help text for a --kek option, and a footer that explains KEK URIs.
extern const char kKekHelp[];
extern const char kKekFooter[];
// Checks a KEK URI's syntax (bad usage: exit 2) and opens it (failed operation: exit 1);
// on failure prints the error, sets `exit_code` and returns false.
bool OpenKek(const std::string& uri, std::unique_ptr<Kek>& kek, int& exit_code);

void AddKatCommand(CLI::App& app, int& exit_code);
void AddKeyCommands(CLI::App& app, int& exit_code);    // kek ..., keyset ...
void AddTokenCommands(CLI::App& app, int& exit_code);  // tokenize, detokenize

}  // namespace piicrypt::cli

#endif  // PIICRYPT_TOOLS_PIICRYPT_COMMANDS_H_
