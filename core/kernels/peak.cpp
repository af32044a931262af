#include "core/kernels/peak.h"

#include <immintrin.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "core/cpu.h"
#include "core/parallel.h"

namespace mg::kernels {
namespace {

constexpr int kChains = 16;           // independent accumulators: more than latency x throughput needs
constexpr long kStepsPerCheck = 1 << 16;  // steps between clock reads
volatile float g_sink;                    // where the probes' sums go, so their loops are kept

// Multiply-adds of one thread running `steps` x kChains x 16 lanes of the instruction (the sum goes to `sink`).
__attribute__((target("avx512f,fma"))) long fma_steps(long steps, float* sink) {
  __m512 acc[kChains];
  for (__m512& a : acc) a = _mm512_setzero_ps();
  __m512 x = _mm512_set1_ps(1.0f), y = _mm512_set1_ps(1e-7f);
  for (long i = 0; i < steps; ++i) {
#pragma GCC unroll 16
    for (int c = 0; c < kChains; ++c) acc[c] = _mm512_fmadd_ps(x, y, acc[c]);
    __asm__ volatile("" : "+v"(x));  // keeps the operands live without a dependency
  }
  __m512 s = acc[0];
  for (int c = 1; c < kChains; ++c) s = _mm512_add_ps(s, acc[c]);
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, s);
  for (float v : lanes) *sink += v;
  return steps * kChains * 16;  // multiply-adds
}

__attribute__((target("avx512f,avx512bf16"))) long bf16_steps(long steps, float* sink) {
  __m512 acc[kChains];
  for (__m512& a : acc) a = _mm512_setzero_ps();
  __m512i x = _mm512_set1_epi32(0x3f803f80), y = _mm512_set1_epi32(0x33d633d6);
  for (long i = 0; i < steps; ++i) {
#pragma GCC unroll 16
    for (int c = 0; c < kChains; ++c) acc[c] = _mm512_dpbf16_ps(acc[c], (__m512bh)x, (__m512bh)y);
    __asm__ volatile("" : "+v"(x));
  }
  __m512 s = acc[0];
  for (int c = 1; c < kChains; ++c) s = _mm512_add_ps(s, acc[c]);
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, s);
  for (float v : lanes) *sink += v;
  return steps * kChains * 16 * 2;  // two multiply-adds per lane
}

// GFLOP/s of `probe` on `threads` std::threads started together, each for about `seconds`.
template <typename Probe>
double run_probe(Probe probe, double seconds, int threads) {
  std::vector<double> rates(static_cast<std::size_t>(threads));
  std::atomic<int> ready{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      ++ready;
      while (ready.load() < threads) {
      }
      float sink = 0;
      long macs = 0;
      const auto start = std::chrono::steady_clock::now();
      double elapsed = 0;
      while (elapsed < seconds) {
        macs += probe(kStepsPerCheck, &sink);
        elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      }
      g_sink = sink;
      rates[static_cast<std::size_t>(t)] = 2.0 * static_cast<double>(macs) / elapsed / 1e9;
    });
  for (std::thread& th : pool) th.join();
  double total = 0;
  for (double r : rates) total += r;
  return total;
}

}  // namespace

Peak measure_peak(double seconds, int threads) {
  if (threads <= 0) threads = num_threads();
  Peak peak;
  if (cpu::has(cpu::Isa::avx512)) peak.f32_gflops = run_probe(fma_steps, seconds, threads);
  if (cpu::has(cpu::Isa::avx512_bf16)) peak.bf16_gflops = run_probe(bf16_steps, seconds, threads);
  return peak;
}

}  // namespace mg::kernels
