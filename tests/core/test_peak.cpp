// The measured arithmetic peak (core/kernels/peak.h) that the benchmarks report their GFLOP/s against.
#include <catch2/catch.hpp>

#include "core/cpu.h"
#include "core/kernels/peak.h"

using namespace mg;

TEST_CASE("peak: measured where the instruction exists, 0 where it does not", "[core][peak]") {
  const kernels::Peak p = kernels::measure_peak(0.05, 1);
  if (cpu::has(cpu::Isa::avx512)) {
    CHECK(p.f32_gflops > 1.0);  // one core does billions of multiply-adds per second
    CHECK(p.f32_gflops < 1e4);  // and not trillions: the loop was not optimised away
  } else {
    CHECK(p.f32_gflops == 0.0);
  }
  if (cpu::has(cpu::Isa::avx512_bf16)) {
    CHECK(p.bf16_gflops > 1.0);
    CHECK(p.bf16_gflops < 2e4);
  } else {
    CHECK(p.bf16_gflops == 0.0);
  }
}
