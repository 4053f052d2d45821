// piicrypt: key management, field encryption and known-answer tests from the command line.
// The subcommands and their exit codes are documented in docs/CLI.md.
#include <iostream>
#include <string>

#include "CLI/CLI.hpp"
#include "piicrypt/process_secrets.h"
#include "tools/piicrypt/commands.h"

namespace piicrypt::cli {

void PrintError(const std::string& message) {
  std::string line = message;
  for (char& c : line) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  std::cerr << "piicrypt: " << line << std::endl;
}

int ReportFailure(const absl::Status& status) {
  PrintError(std::string(status.message()));
  return kExitFailed;
}

// --allow-core-dumps, given before the subcommand. Read before CLI11 parses the command
// line, because the secure heap must start before anything uses OpenSSL.
bool AllowCoreDumps(int argc, char** argv) {
  for (int i = 1; i < argc && argv[i][0] == '-'; ++i) {
    if (std::string(argv[i]) == "--allow-core-dumps") return true;
  }
  return false;
}

}  // namespace piicrypt::cli

int main(int argc, char** argv) {
  using namespace piicrypt::cli;  // NOLINT(build/namespaces)
  // Keys live in the secure heap (never in a core dump) and, by default, the process
  // writes no core dump at all and cannot be attached to.
  piicrypt::ProcessSecretsOptions protect;
  protect.disable_core_dumps = !AllowCoreDumps(argc, argv);
  if (absl::StatusOr<piicrypt::ProcessSecrets> p = piicrypt::ProtectProcessSecrets(protect);
      !p.ok()) {
    PrintError(std::string(p.status().message()));
    return kExitFailed;
  }
  CLI::App app{
      "piicrypt: encrypts and tokenizes the personal fields of order systems under keys "
      "held apart from the database.",
      "piicrypt"};
  app.require_subcommand(1);
  app.add_flag("--allow-core-dumps",
               "Let this process write a core dump (for debugging a crash). Keys stay out "
               "of it either way: they live in a memory area that core dumps leave out. "
               "Without this flag piicrypt writes no core dump and cannot be attached to");
  app.footer(
      "Exit status: 0 success, 1 failed operation (bad ciphertext, wrong key, failed test "
      "case), 2 bad usage.\nRun 'piicrypt SUBCOMMAND --help' for the options of each "
      "subcommand.");
  int exit_code = kExitOk;
  AddKatCommand(app, exit_code);
  AddKeyCommands(app, exit_code);
  AddFieldCommands(app, exit_code);
  AddTokenCommands(app, exit_code);
  AddReencryptCommand(app, exit_code);
  AddMaskCommand(app, exit_code);
  AddPlanCommand(app, exit_code);
  AddSubjectCommands(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    PrintError(std::string(e.what()) + " (see 'piicrypt --help')");
    return kExitUsage;
  }
  return exit_code;
}
