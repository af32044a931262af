// The machine's arithmetic peak, measured: independent multiply-adds held in registers, one stream per thread,
// all threads at once. The benchmarks report their GFLOP/s as a share of these numbers, which depend on the CPU
// (AVX-512 units of 256 or 512 bits, clock under load) and so are probed rather than assumed.
#pragma once

namespace mg::kernels {

struct Peak {
  double f32_gflops = 0;   // vfmadd231ps zmm (0 without AVX-512)
  double bf16_gflops = 0;  // vdpbf16ps zmm, 2 multiply-adds per lane (0 without AVX512_BF16)
};

// Runs each probe for about `seconds` on `threads` threads (the current thread count when 0).
Peak measure_peak(double seconds = 0.3, int threads = 0);

}  // namespace mg::kernels
