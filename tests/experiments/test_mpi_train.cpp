// Data-parallel training under mpirun (README → Scale-out): K = 1, 2 and 4 ranks give byte-identical
// checkpoints and metrics, a run resumes on another K, a killed rank ends the job, and ranks started with
// different flags are refused. Skipped when mixgrad was built without MPI or mpirun is missing.
#include <catch2/catch.hpp>

#include <functional>

#include "tests/experiments/synthetic_cifar.h"
#include "tests/experiments/train_helpers.h"

namespace mg::test {
namespace {

bool mpi_available() {
#ifdef MIXGRAD_WITH_MPI
  return run_command("command -v mpirun").status == 0;
#else
  return false;
#endif
}

// mpirun on this machine only: shared memory between the ranks, its own control traffic on loopback.
std::string mpirun(int ranks) {
  return "env OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 mpirun --oversubscribe --mca btl self,vader "
         "--mca oob_tcp_if_include lo -np " + std::to_string(ranks) + " ";
}

#define REQUIRE_MPI()                                                         \
  if (!mpi_available()) {                                                     \
    mg::test::skip("mixgrad was built without MPI, or mpirun is not installed"); \
    return;                                                                   \
  }

void require_same_run(const fs::path& a, const fs::path& b) {
  REQUIRE(same_weights(a, b));
  REQUIRE(read_metrics(a) == read_metrics(b));
}

// Trains on <tmp>/data with `flags` in one process (<tmp>/k1), then under mpirun on each number of `ranks`
// (<tmp>/kK); each must end on the one-process run's weights and metrics.
void require_ranks_match_one_process(const fs::path& tmp, const std::string& flags, std::initializer_list<int> ranks) {
  REQUIRE(run_command(train_command(tmp / "data", tmp / "k1", flags)).status == 0);
  for (int k : ranks) {
    const fs::path run = tmp / ("k" + std::to_string(k));
    const auto r = run_command(mpirun(k) + train_command(tmp / "data", run, flags));
    INFO(r.output);
    REQUIRE(r.status == 0);
    require_same_run(tmp / "k1", run);
  }
}

}  // namespace

TEST_CASE("mpirun: smallcnn-bn with mixup on 2 and 4 ranks ends on the bits of one process", "[experiments][mpi]") {
  REQUIRE_MPI();
  TempDir tmp;
  write_synthetic_cifar(tmp.path / "data", 16, 32);
  require_ranks_match_one_process(tmp.path, " --shards 4 --threads 1", {2, 4});
  // Not the plain step's bits: the micro-shards changed the order of the sums (and BatchNorm still saw the
  // whole batch, so the run learns as well; test_micro_shards.cpp compares the values).
  REQUIRE(run_command(train_command(tmp.path / "data", tmp.path / "plain", "--threads 1")).status == 0);
  CHECK_FALSE(same_weights(tmp.path / "k1", tmp.path / "plain"));
}

TEST_CASE("mpirun: preact-resnet18 steps on 2 and 4 ranks end on the bits of one process", "[experiments][mpi]") {
  REQUIRE_MPI();
  TempDir tmp;
  write_synthetic_cifar(tmp.path / "data", 8, 16);
  require_ranks_match_one_process(tmp.path, " --model preact-resnet18 --epochs 1 --schedule constant --shards 4 --threads 1",
                                  {2, 4});
}

TEST_CASE("mpirun: a run resumed on another number of ranks ends on the same bits", "[experiments][mpi]") {
  REQUIRE_MPI();
  TempDir tmp;
  write_synthetic_cifar(tmp.path / "data", 16, 32);
  const fs::path data = tmp.path / "data", straight = tmp.path / "straight", moved = tmp.path / "moved";
  REQUIRE(run_command(train_command(data, straight, "--shards 4 --threads 1")).status == 0);
  REQUIRE(run_command(mpirun(2) + train_command(data, moved, "--shards 4 --threads 1 --stop-after 1")).status == 0);
  REQUIRE(run_command(mpirun(4) + train_command(data, moved, "--threads 1 --resume --stop-after 1")).status == 0);
  REQUIRE(run_command(train_command(data, moved, "--threads 1 --resume")).status == 0);  // one process
  require_same_run(straight, moved);
}

TEST_CASE("mpirun: a killed rank ends the job non-zero within 60 s and the checkpoint resumes", "[experiments][mpi]") {
  REQUIRE_MPI();
  TempDir tmp;
  write_synthetic_cifar(tmp.path / "data", 64, 32);
  const fs::path run = tmp.path / "run";
  Child job(mpirun(2) + train_command(tmp.path / "data", run, "--epochs 200 --threads 1"), tmp.path / "job.log");
  REQUIRE(job.wait_until([&] { return fs::exists(run / "checkpoint.safetensors"); }));
  const auto ranks = run_command("pgrep -P " + std::to_string(job.pid));
  INFO(ranks.output);
  REQUIRE(ranks.status == 0);
  const std::string victim = ranks.output.substr(ranks.output.find_last_of('\n', ranks.output.size() - 2) + 1);
  REQUIRE(run_command("kill -9 " + victim).status == 0);
  const int status = job.wait_for(60);
  INFO(job.output());
  CHECK(status != -1);  // the job ended within 60 s
  CHECK(status != 0);
  CHECK_THAT(job.output(), Catch::Contains("exited on signal 9"));
  // The last checkpoint is whole, and a one-process resume carries on from it.
  REQUIRE(run_command(train_command(tmp.path / "data", run, "--threads 1 --resume --stop-after 1")).status == 0);
}

TEST_CASE("mpirun: ranks started with different flags, or a split the ranks cannot share, are refused",
          "[experiments][mpi]") {
  REQUIRE_MPI();
  TempDir tmp;
  write_synthetic_cifar(tmp.path / "data", 16, 32);
  const fs::path data = tmp.path / "data";
  const auto mixed = run_command(mpirun(1) + train_command(data, tmp.path / "a", "--threads 1 --shards 2 --lr 0.05") +
                                 " : -np 1 " + train_command(data, tmp.path / "a", "--threads 1 --shards 2 --lr 0.1"));
  CHECK(mixed.status != 0);
  CHECK_THAT(mixed.output, Catch::Contains("rank 1 of 2 has another training configuration"));
  const auto odd = run_command(mpirun(3) + train_command(data, tmp.path / "b", "--threads 1 --shards 4"));
  CHECK(odd.status != 0);
  CHECK_THAT(odd.output, Catch::Contains("--shards 4 cannot be split over 3 ranks"));
}

namespace {

// summary.json without its timings, which no two runs share.
nlohmann::json summary_numbers(const fs::path& out) {
  std::function<nlohmann::json(const nlohmann::json&)> strip = [&](const nlohmann::json& j) -> nlohmann::json {
    if (j.is_object()) {
      nlohmann::json o = nlohmann::json::object();
      for (const auto& [k, v] : j.items())
        if (k != "seconds" && k != "training_seconds" && k != "images_per_s") o[k] = strip(v);
      return o;
    }
    if (j.is_array()) {
      nlohmann::json a = nlohmann::json::array();
      for (const auto& v : j) a.push_back(strip(v));
      return a;
    }
    return j;
  };
  return strip(nlohmann::json::parse(read_file(out / "summary.json")));
}

}  // namespace

TEST_CASE("mpirun: reproduce --preset smoke on 2 ranks (a run each) and 4 (two per run) writes the one-process summary",
          "[experiments][mpi]") {
  REQUIRE_MPI();
  TempDir tmp;
  write_synthetic_cifar(tmp.path / "data", 512, 32);  // the smoke preset trains on 2,560 images
  const std::string base = mixgrad_binary() + " reproduce --preset smoke --seeds 1 --threads 1 --shards 2 --data " +
                           (tmp.path / "data").string() + " --out ";
  REQUIRE(run_command(base + (tmp.path / "one").string()).status == 0);
  const nlohmann::json one = summary_numbers(tmp.path / "one");
  REQUIRE(one.contains("runs"));
  CHECK(one["config"]["shards"] == 2);
  const auto two = run_command(mpirun(2) + base + (tmp.path / "two").string());
  INFO(two.output);
  REQUIRE(two.status == 0);
  CHECK_THAT(two.output, Catch::Contains("rank 1 of 2: mixup, seed 0"));  // the runs were spread
  CHECK(one == summary_numbers(tmp.path / "two"));
  const auto four = run_command(mpirun(4) + base + (tmp.path / "four").string());
  INFO(four.output);
  REQUIRE(four.status == 0);
  CHECK_THAT(four.output, Catch::Contains("erm, seed 0 on ranks 0 to 1") && Catch::Contains("mixup, seed 0 on ranks 2 to 3"));
  CHECK(one == summary_numbers(tmp.path / "four"));
  const auto odd = run_command(base + (tmp.path / "odd").string() + " --shards 3");
  CHECK(odd.status != 0);
  CHECK_THAT(odd.output, Catch::Contains("'shards' is 3") && Catch::Contains("power of two"));
}

}  // namespace mg::test
