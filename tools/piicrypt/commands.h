// commands.h: the subcommands of the piicrypt tool. Each group registers its subcommands
// on the app; a subcommand's callback stores its exit status in `exit_code`:
// 0 success, 1 failed operation, 2 bad usage (DESIGN.md, command-line contract).
#ifndef PIICRYPT_TOOLS_PIICRYPT_COMMANDS_H_
#define PIICRYPT_TOOLS_PIICRYPT_COMMANDS_H_

#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"

namespace piicrypt::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;

// Prints "piicrypt: <message>" on stderr as one line.
void PrintError(const std::string& message);
// Prints a status as one line on stderr and maps it to an exit code: kInvalidArgument
// for usage problems is the caller's choice; anything else here is kExitFailed.
int ReportFailure(const absl::Status& status);

void AddKatCommand(CLI::App& app, int& exit_code);
void AddKeyCommands(CLI::App& app, int& exit_code);  // kek ..., keyset ...

}  // namespace piicrypt::cli

#endif  // PIICRYPT_TOOLS_PIICRYPT_COMMANDS_H_
