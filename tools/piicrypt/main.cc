// piicrypt: key management, field encryption and known-answer tests from the command line.
// The subcommands and their exit codes are documented in docs/CLI.md.
#include <iostream>
#include <string>

#include "CLI/CLI.hpp"
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

}  // namespace piicrypt::cli

int main(int argc, char** argv) {
  using namespace piicrypt::cli;  // NOLINT(build/namespaces)
  CLI::App app{
      "piicrypt: encrypts and tokenizes the personal fields of order systems under keys "
      "held apart from the database.",
      "piicrypt"};
  app.require_subcommand(1);
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
