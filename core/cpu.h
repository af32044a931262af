// What this CPU can run, detected once, and the switches that turn mixgrad's hand-written SIMD kernels off.
//
// Every kernel compiled for an instruction set beyond plain x86-64 runs only when kernels_enabled() of that
// set says yes: the CPU has it and it is not switched off (by its environment variable, read once, or by
// set_kernels_enabled for tests and comparisons).
#pragma once

namespace mg::cpu {

enum class Isa {
  avx2,         // AVX2: the batch-norm channel sums
  avx512,       // AVX-512 F, DQ, BW and VL, and FMA: the convolution and 2x2 max-pool kernels
  avx512_bf16,  // AVX512_BF16 (vdpbf16ps) on top of avx512: the bf16 product (core/kernels/bf16/)
};

// The name used in messages ("avx2", "avx512", "avx512_bf16").
const char* name(Isa isa);

// The environment variable that switches the kernels of `isa` off when set to anything but "" or "0":
// MIXGRAD_NO_AVX2, MIXGRAD_NO_AVX512, MIXGRAD_NO_BF16.
const char* off_switch(Isa isa);

// True when this CPU supports `isa`.
bool has(Isa isa);

// True when the kernels of `isa` run: the CPU has it and they are not switched off.
bool kernels_enabled(Isa isa);

// Switches the kernels of `isa` on or off (on only takes effect on a CPU that has it); returns the previous
// setting. Not meant to be called while kernels run on other threads.
bool set_kernels_enabled(Isa isa, bool on);

}  // namespace mg::cpu
