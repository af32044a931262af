// Runs a small Python script with Debian's torch-enabled interpreter and reads back what it prints, for
// tests that cross-check mixgrad against PyTorch.
#pragma once
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "tests/test_util.h"

namespace mg::test {

// Writes `script` to a temporary file, runs /usr/bin/python3 on it and returns its output; a non-zero
// exit throws mg::Error with the output.
inline std::string run_python(const std::string& script) {
  char path[] = "/tmp/mixgrad_test_XXXXXX.py";
  const int fd = mkstemps(path, 3);
  MG_CHECK(fd >= 0, "run_python: cannot create a temporary file");
  close(fd);
  {
    std::ofstream out(path);
    out << script;
  }
  const CommandResult r = run_command(std::string("/usr/bin/python3 ") + path);
  std::remove(path);
  MG_CHECK(r.status == 0, "run_python: python exited with status ", r.status, ":\n", r.output);
  return r.output;
}

// Every whitespace-separated token of `text` read as a number.
inline std::vector<double> parse_numbers(const std::string& text) {
  std::istringstream in(text);
  std::vector<double> out;
  std::string token;
  while (in >> token) out.push_back(std::strtod(token.c_str(), nullptr));
  return out;
}

}  // namespace mg::test
