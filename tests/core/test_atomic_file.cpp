// write_file_atomic / AtomicFileWriter: a file is replaced whole or not at all, and no temporary is left.
#include <signal.h>
#include <sys/time.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "tests/temp_dir.h"

using namespace mg;
namespace fs = std::filesystem;

namespace {

using mg::test::TempDir;

std::string contents(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::size_t entries(const fs::path& dir) {
  return static_cast<std::size_t>(std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}

void on_alarm(int) {}

}  // namespace

TEST_CASE("write_file_atomic creates and replaces a file, leaving no temporary behind", "[core][atomic]") {
  TempDir dir;
  const fs::path p = dir.path / "a.txt";
  write_file_atomic(p.string(), "first");
  CHECK(contents(p) == "first");
  write_file_atomic(p.string(), std::string("sec\0nd", 6));
  CHECK(contents(p) == std::string("sec\0nd", 6));
  CHECK(entries(dir.path) == 1);
}

TEST_CASE("a failed atomic write leaves the old file and no temporary", "[core][atomic]") {
  TempDir dir;
  const fs::path p = dir.path / "kept.txt";
  write_file_atomic(p.string(), "old");
  SECTION("abandoned before commit (an exception while writing)") {
    try {
      AtomicFileWriter file(p.string());
      file.write("new", 3);
      throw Error("failure in the middle of a write");
    } catch (const Error&) {
    }
  }
  SECTION("rename fails: a non-empty directory is in the way") {
    const fs::path blocked = dir.path / "blocked";
    fs::create_directories(blocked / "inside");
    CHECK_THROWS_WITH(write_file_atomic(blocked.string(), "new"),
                      Catch::Contains(blocked.string()) && Catch::Contains("rename"));
    CHECK(fs::is_directory(blocked / "inside"));
    fs::remove_all(blocked);
  }
  SECTION("the directory does not exist") {
    CHECK_THROWS_WITH(write_file_atomic((dir.path / "missing" / "x").string(), "new"),
                      Catch::Contains("missing/x") && Catch::Contains("temporary"));
  }
  CHECK(contents(p) == "old");
  CHECK(entries(dir.path) == 1);
}

TEST_CASE("an atomic write completes while signals keep interrupting the process", "[core][atomic]") {
  // Training installs SIGINT/SIGTERM handlers; here a 0.2 ms interval timer without SA_RESTART keeps
  // interrupting system calls while 64 MiB are written, fsynced and renamed.
  struct sigaction action {}, previous {};
  action.sa_handler = on_alarm;
  sigemptyset(&action.sa_mask);
  REQUIRE(sigaction(SIGALRM, &action, &previous) == 0);
  itimerval timer{{0, 200}, {0, 200}}, stopped{};
  REQUIRE(setitimer(ITIMER_REAL, &timer, nullptr) == 0);
  TempDir dir;
  std::string data(64 << 20, '\0');
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 2654435761u >> 24);
  const fs::path p = dir.path / "big.bin";
  write_file_atomic(p.string(), data);
  setitimer(ITIMER_REAL, &stopped, nullptr);
  sigaction(SIGALRM, &previous, nullptr);
  CHECK(contents(p) == data);
  CHECK(entries(dir.path) == 1);
}
