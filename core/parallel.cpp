#include "core/parallel.h"

#include <cblas.h>
#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/info.h>
#include <oneapi/tbb/parallel_for.h>

#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <cerrno>

#include "core/cpu.h"
#include "core/error.h"

extern "C" char* openblas_get_corename(void);

namespace mg {
namespace {

std::unique_ptr<tbb::global_control>& thread_limit() {
  static std::unique_ptr<tbb::global_control> limit;
  return limit;
}
int g_threads = 0;

#if defined(__SANITIZE_THREAD__)
// Under ThreadSanitizer (MIXGRAD_SANITIZE=thread), parallel_for splits the range into one contiguous piece per
// thread and runs them on std::threads, which TSan follows from creation to join. oneTBB hands tasks over and
// joins them inside libtbb.so, which Debian does not build with TSan: TSan would report every result a task
// writes and the caller reads, and TBB's own task recycling, as races (oneTBB documents that TSan needs TBB
// instrumented itself: github.com/uxlfoundation/oneTBB/issues/358). What TSan checks is then mixgrad's code:
// the bodies, their shared scratch and their results, split as they are with TBB (contiguous pieces).
void run_on_threads(int64_t begin, int64_t end, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  const int64_t n = end - begin, pieces = std::min<int64_t>(g_threads, (n + grain - 1) / grain);
  std::vector<std::exception_ptr> errors(static_cast<std::size_t>(pieces));
  auto piece = [&](int64_t i) {
    try {
      fn(begin + n * i / pieces, begin + n * (i + 1) / pieces);
    } catch (...) {
      errors[static_cast<std::size_t>(i)] = std::current_exception();
    }
  };
  std::vector<std::thread> threads;
  for (int64_t i = 1; i < pieces; ++i) threads.emplace_back(piece, i);
  piece(0);
  for (std::thread& t : threads) t.join();
  for (const std::exception_ptr& e : errors)
    if (e) std::rethrow_exception(e);  // the first piece's error, as TBB rethrows one of them
}
#endif

}  // namespace

int hardware_threads() { return tbb::info::default_concurrency(); }

void set_num_threads(int threads) {
  MG_CHECK(threads >= 0, "threads must be >= 0 (0 = all hardware threads), got ", threads);
  g_threads = threads == 0 ? hardware_threads() : threads;
  thread_limit() = std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism,
                                                        static_cast<std::size_t>(g_threads));
  openblas_set_num_threads(1);
}

int num_threads() {
  init_threading();
  return g_threads;
}

void init_threading() {
  static std::once_flag once;
  std::call_once(once, [] {
    int threads = 0;
    if (const char* env = std::getenv("MIXGRAD_THREADS"); env && *env) {
      char* end = nullptr;
      long value = std::strtol(env, &end, 10);
      MG_CHECK(*end == '\0' && value >= 0, "MIXGRAD_THREADS must be a non-negative integer, got '", env, "'");
      threads = static_cast<int>(value);
    }
    if (g_threads == 0) set_num_threads(threads);
  });
}

void parallel_for(int64_t begin, int64_t end, int64_t grain,
                  const std::function<void(int64_t, int64_t)>& fn) {
  if (end <= begin) return;
  grain = std::max<int64_t>(grain, 1);
  init_threading();
  if (end - begin <= grain || g_threads <= 1) {
    fn(begin, end);
    return;
  }
#if defined(__SANITIZE_THREAD__)
  run_on_threads(begin, end, grain, fn);
#else
  tbb::parallel_for(tbb::blocked_range<int64_t>(begin, end, grain),
                    [&](const tbb::blocked_range<int64_t>& r) { fn(r.begin(), r.end()); });
#endif
}

const char* blas_core_name() { return openblas_get_corename(); }

namespace {

// OpenBLAS kernel families that use AVX-512 (names as OPENBLAS_CORETYPE takes them, compared in lower case).
bool avx512_core(std::string name) {
  for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return name == "skylakex" || name == "cooperlake" || name == "sapphirerapids";
}

}  // namespace

void use_fast_blas_core(char** argv) {
  const char* forced = std::getenv("OPENBLAS_CORETYPE");
  if (!forced || !*forced || avx512_core(forced) || !cpu::has(cpu::Isa::avx512)) return;
  if (const char* keep = std::getenv("MIXGRAD_KEEP_BLAS_CORE"); keep && *keep && std::strcmp(keep, "0") != 0) {
    std::fprintf(stderr,
                 "mixgrad: warning: OPENBLAS_CORETYPE=%s makes OpenBLAS use kernels without AVX-512 on a CPU that has "
                 "it; GEMMs run at about half speed (unset MIXGRAD_KEEP_BLAS_CORE to let mixgrad switch to SkylakeX)\n",
                 forced);
    return;
  }
  if (std::getenv("MIXGRAD_BLAS_REEXEC")) return;  // already re-executed once: never loop
  setenv("MIXGRAD_BLAS_REEXEC", forced, 1);         // remembers what the environment asked for
  setenv("OPENBLAS_CORETYPE", "SkylakeX", 1);
  execv("/proc/self/exe", argv);
  std::fprintf(stderr, "mixgrad: warning: could not re-execute with OPENBLAS_CORETYPE=SkylakeX (%s); OpenBLAS keeps "
               "the slower %s kernels\n", std::strerror(errno), forced);
  setenv("OPENBLAS_CORETYPE", forced, 1);
}

}  // namespace mg
