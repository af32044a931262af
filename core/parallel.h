// Threading policy: all parallelism comes from oneTBB through parallel_for; OpenBLAS always runs on one
// thread, and GEMM is split by mixgrad itself (core/gemm.h), so a multi-threaded BLAS never runs inside a
// TBB task. One knob, set_num_threads (CLI --threads, env MIXGRAD_THREADS), limits oneTBB's workers.
#pragma once
#include <cstdint>
#include <functional>

namespace mg {

// Calls fn(chunk_begin, chunk_end) over [begin, end). Runs serially when the range is no longer than
// `grain`: small ops are faster on one thread. fn must give results that do not depend on how the range
// is cut (each index written by exactly one call); reductions use fixed chunks (see core/ops/reduce.cpp).
void parallel_for(int64_t begin, int64_t end, int64_t grain,
                  const std::function<void(int64_t, int64_t)>& fn);

void set_num_threads(int threads);  // 0 = all hardware threads
int num_threads();
int hardware_threads();

// Reads MIXGRAD_THREADS once and pins OpenBLAS to one thread. Called by the first parallel_for or gemm.
void init_threading();

// The OpenBLAS kernel family in use ("Haswell", "SkylakeX", ...), reported with every benchmark figure.
const char* blas_core_name();

// OpenBLAS picks its kernels when it is loaded, from the CPU or from OPENBLAS_CORETYPE. When that variable
// forces a family without AVX-512 (these machines preset Haswell) on a CPU with AVX-512, GEMMs run at about
// half speed; this re-executes the program (argv, via /proc/self/exe) with OPENBLAS_CORETYPE=SkylakeX.
// Call it first thing in main(). MIXGRAD_KEEP_BLAS_CORE=1 keeps the environment's choice (a warning is then
// printed once). Returns only when no re-execution happens (or it failed, with a warning).
void use_fast_blas_core(char** argv);

}  // namespace mg
