// Small helpers shared by the tests.
#pragma once
#include <catch2/catch.hpp>
#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace mg::test {

// Ends a test as skipped, visibly: the reason goes to the output, where CTest's SKIP_REGULAR_EXPRESSION
// (tests/CMakeLists.txt) turns "SKIPPED:" into a skipped test instead of a pass. Call as
// `return test::skip("...")` before anything is asserted.
inline void skip(const std::string& reason) {
  WARN("SKIPPED: " << reason);
  std::printf("SKIPPED: %s\n", reason.c_str());
  std::fflush(stdout);
}

// Element-wise |a - b| <= tol, shapes equal.
inline bool all_close(const Tensor& a, const Tensor& b, double tol) {
  if (a.shape() != b.shape()) return false;
  const std::vector<double> x = a.to_vector(), y = b.to_vector();
  for (std::size_t i = 0; i < x.size(); ++i)
    if (!(std::abs(x[i] - y[i]) <= tol)) return false;
  return true;
}

// Same bytes (for determinism checks).
inline bool bitwise_equal(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape() || a.dtype() != b.dtype()) return false;
  const Tensor x = a.contiguous(), y = b.contiguous();  // held: bytes() views their storage
  return std::ranges::equal(x.bytes(), y.bytes());
}

struct CommandResult {
  int status;
  std::string output;  // stdout and stderr together
};

// Runs a shell command and captures its output and exit status.
inline CommandResult run_command(const std::string& command) {
  CommandResult result{0, {}};
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return {-1, "popen failed"};
  char buffer[4096];
  std::size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) result.output.append(buffer, n);
  const int status = pclose(pipe);
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

inline std::string mixgrad_binary() { return MIXGRAD_BINARY; }

}  // namespace mg::test
