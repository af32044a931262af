#include "experiments/distributed/job.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "core/error.h"

#ifdef MIXGRAD_WITH_MPI
#include <mpi.h>
#endif

namespace mg::experiments {
namespace {

#ifdef MIXGRAD_WITH_MPI
// The ranks of a communicator (MPI_COMM_WORLD, or a group split from it). Only the main thread calls MPI
// (the kernels' threads never do).
class MpiJob final : public nn::Collective {
 public:
  explicit MpiJob(MPI_Comm comm = MPI_COMM_WORLD) : comm_(comm) {
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &size_);
  }
  ~MpiJob() override {
    if (comm_ != MPI_COMM_WORLD) MPI_Comm_free(&comm_);
  }
  MpiJob(const MpiJob&) = delete;
  MpiJob& operator=(const MpiJob&) = delete;
  MPI_Comm comm() const { return comm_; }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  void all_gather(const double* local, int64_t n, double* out) const override { gather(local, n, out, MPI_DOUBLE); }
  void all_gather(const float* local, int64_t n, float* out) const override { gather(local, n, out, MPI_FLOAT); }
  void all_to_all(const double* send, int64_t n, double* recv) const override { exchange(send, n, recv, MPI_DOUBLE); }
  void all_to_all(const float* send, int64_t n, float* recv) const override { exchange(send, n, recv, MPI_FLOAT); }

 private:
  template <typename T>
  void gather(const T* local, int64_t n, T* out, MPI_Datatype type) const {
    MG_CHECK(n <= INT32_MAX, "all_gather of ", n, " values: more than an MPI count holds");
    MPI_Allgather(local, static_cast<int>(n), type, out, static_cast<int>(n), type, comm_);
  }
  template <typename T>
  void exchange(const T* send, int64_t n, T* recv, MPI_Datatype type) const {
    MG_CHECK(n <= INT32_MAX, "all_to_all of ", n, " values per rank: more than an MPI count holds");
    MPI_Alltoall(send, static_cast<int>(n), type, recv, static_cast<int>(n), type, comm_);
  }
  MPI_Comm comm_;
  int rank_ = 0, size_ = 1;
};

MpiJob* g_mpi = nullptr;

// Whether mpirun (or another MPI launcher) started this process.
bool launched_by_mpi() {
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"})
    if (std::getenv(var)) return true;
  return false;
}
#endif

}  // namespace

void start_job(int& argc, char**& argv) {
#ifdef MIXGRAD_WITH_MPI
  if (!launched_by_mpi()) return;  // a plain run needs no MPI at all
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL);
  g_mpi = new MpiJob();
#else
  (void)argc;
  (void)argv;
#endif
}

void end_job() {
#ifdef MIXGRAD_WITH_MPI
  if (!g_mpi) return;
  MPI_Finalize();
  delete g_mpi;
  g_mpi = nullptr;
#endif
}

void abort_job(int status) {
#ifdef MIXGRAD_WITH_MPI
  if (g_mpi && g_mpi->size() > 1) {
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, status);
  }
#endif
  std::exit(status);
}

const nn::Collective& job() {
#ifdef MIXGRAD_WITH_MPI
  if (g_mpi) return *g_mpi;
#endif
  return nn::single_process();
}

std::shared_ptr<const nn::Collective> split_job(int group) {
#ifdef MIXGRAD_WITH_MPI
  if (g_mpi) {
    MPI_Comm comm = MPI_COMM_NULL;
    MPI_Comm_split(g_mpi->comm(), group >= 0 ? group : MPI_UNDEFINED, g_mpi->rank(), &comm);
    if (comm == MPI_COMM_NULL) return nullptr;
    return std::make_shared<MpiJob>(comm);
  }
#endif
  if (group < 0) return nullptr;
  return {std::shared_ptr<void>(), &nn::single_process()};  // one process is its only group (not owned)
}

bool is_root() { return job().rank() == 0; }

bool built_with_mpi() {
#ifdef MIXGRAD_WITH_MPI
  return true;
#else
  return false;
#endif
}

std::string rank_prefix() {
  const nn::Collective& j = job();
  if (j.size() == 1) return "";
  return "rank " + std::to_string(j.rank()) + " of " + std::to_string(j.size()) + ": ";
}

bool on_any_rank(const nn::Collective& ranks, bool flag) {
  if (ranks.size() == 1) return flag;
  for (double v : ranks.all_gather(std::vector<double>{flag ? 1.0 : 0.0}))
    if (v != 0) return true;
  return false;
}

void barrier(const nn::Collective& ranks) { on_any_rank(ranks, false); }

void require_same_on_every_rank(const nn::Collective& ranks, const std::string& what, uint64_t value) {
  if (ranks.size() == 1) return;
  // Two 32-bit halves: exact in doubles.
  const std::vector<double> all = ranks.all_gather(
      std::vector<double>{static_cast<double>(value >> 32), static_cast<double>(value & 0xffffffffull)});
  for (int r = 1; r < ranks.size(); ++r)
    MG_CHECK(all[2 * r] == all[0] && all[2 * r + 1] == all[1], "rank ", r, " of ", ranks.size(), " has another ",
             what, " than rank 0; start every rank with the same flags, the same binary and the same data files");
}

uint64_t fnv1a(const void* data, std::size_t size, uint64_t hash) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < size; ++i) hash = (hash ^ p[i]) * 0x100000001b3ull;
  return hash;
}

}  // namespace mg::experiments
