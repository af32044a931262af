// The mixgrad command line: usage errors and the gradcheck report.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/test_util.h"

using mg::test::mixgrad_binary;
using mg::test::run_command;

TEST_CASE("unknown subcommands and flags are rejected with usage and a non-zero exit", "[cli]") {
  const auto unknown = run_command(mixgrad_binary() + " frobnicate");
  CHECK(unknown.status != 0);
  CHECK_THAT(unknown.output, Catch::Contains("frobnicate"));
  const auto none = run_command(mixgrad_binary());
  CHECK(none.status != 0);
  CHECK_THAT(none.output, Catch::Contains("subcommand"));
  const auto flag = run_command(mixgrad_binary() + " gradcheck --no-such-flag");
  CHECK(flag.status != 0);
  CHECK_THAT(flag.output, Catch::Contains("--no-such-flag"));
  const auto bad_op = run_command(mixgrad_binary() + " gradcheck --op not_an_op");
  CHECK(bad_op.status != 0);
  CHECK_THAT(bad_op.output, Catch::Contains("unknown op") && Catch::Contains("matmul"));
  const auto help = run_command(mixgrad_binary() + " --help");
  CHECK(help.status == 0);
  CHECK_THAT(help.output, Catch::Contains("gradcheck"));
}

TEST_CASE("gradcheck --json lists at least 30 ops, all passing in f64", "[cli][gradcheck]") {
  const auto result = run_command(mixgrad_binary() + " gradcheck --json");
  REQUIRE(result.status == 0);
  const nlohmann::json report = nlohmann::json::parse(result.output);
  REQUIRE(report.is_array());
  CHECK(report.size() >= 30);
  for (const auto& row : report) {
    INFO(row.dump());
    CHECK(row["dtype"] == "f64");
    CHECK(row["passed"] == true);
    CHECK(row["max_rel_err"].get<double>() <= 1e-6);
    CHECK(row.contains("max_abs_err"));
  }
  const auto one = run_command(mixgrad_binary() + " gradcheck --op matmul --json");
  REQUIRE(one.status == 0);
  CHECK(nlohmann::json::parse(one.output).size() == 3);  // matmul, matmul_batched, matmul_vector
}
