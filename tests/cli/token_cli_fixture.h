// token_cli_fixture.h: the fixture of the tests of the token commands (token_cli_test.cc,
// tokens_cli_test.cc): a KEK file, a keyset under it and a SQLite token store path, all in
// a temporary directory.
//
//   TEST_F(TokenCliFixture, Example) {
//     CommandResult r = Run("tokenize", "--field orders.card --store '" + store_ + "'", "4111\n");
//   }
#ifndef PIICRYPT_TESTS_CLI_TOKEN_CLI_FIXTURE_H_
#define PIICRYPT_TESTS_CLI_TOKEN_CLI_FIXTURE_H_

#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace piicrypt::testing {

class TokenCliFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    kek_ = "file:" + dir_.File("kek.key");
    keyset_ = dir_.File("orders.keyset");
    store_ = "sqlite:" + dir_.File("tokens.db");
    ASSERT_TRUE(CliCreateKeyset(kek_, keyset_));
  }

  // `piicrypt COMMAND --kek K --keyset F ARGS` with `input` on stdin.
  CommandResult Run(const std::string& command, const std::string& args,
                    const std::string& input = "") {
    return RunCommand(absl::StrCat(CliPath(), " ", command, " --kek '", kek_, "' --keyset '",
                                   keyset_, "' ", args),
                      input);
  }

  TempDir dir_;
  std::string kek_, keyset_, store_;  // store_: "sqlite:PATH", not created yet
};

}  // namespace piicrypt::testing

#endif  // PIICRYPT_TESTS_CLI_TOKEN_CLI_FIXTURE_H_
