#include "core/cpu.h"

#include <atomic>
#include <cstdlib>
#include <cstring>

namespace mg::cpu {
namespace {

constexpr int kIsas = 3;

int index(Isa isa) { return static_cast<int>(isa); }

bool detect(Isa isa) {
  __builtin_cpu_init();
  const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
                      __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
                      __builtin_cpu_supports("fma");
  switch (isa) {
    case Isa::avx2: return __builtin_cpu_supports("avx2");
    case Isa::avx512: return avx512;
    case Isa::avx512_bf16: return avx512 && __builtin_cpu_supports("avx512bf16");
  }
  return false;
}

bool switched_off(Isa isa) {
  const char* value = std::getenv(off_switch(isa));
  return value && *value && std::strcmp(value, "0") != 0;
}

// -1: not decided yet; 0 / 1: off / on.
std::atomic<int> g_enabled[kIsas] = {-1, -1, -1};

}  // namespace

const char* name(Isa isa) {
  switch (isa) {
    case Isa::avx2: return "avx2";
    case Isa::avx512: return "avx512";
    case Isa::avx512_bf16: return "avx512_bf16";
  }
  return "?";
}

const char* off_switch(Isa isa) {
  switch (isa) {
    case Isa::avx2: return "MIXGRAD_NO_AVX2";
    case Isa::avx512: return "MIXGRAD_NO_AVX512";
    case Isa::avx512_bf16: return "MIXGRAD_NO_BF16";
  }
  return "";
}

bool has(Isa isa) {
  static const bool supported[kIsas] = {detect(Isa::avx2), detect(Isa::avx512), detect(Isa::avx512_bf16)};
  return supported[index(isa)];
}

bool kernels_enabled(Isa isa) {
  std::atomic<int>& state = g_enabled[index(isa)];
  int on = state.load(std::memory_order_relaxed);
  if (on < 0) {
    on = has(isa) && !switched_off(isa) ? 1 : 0;
    state.store(on, std::memory_order_relaxed);
  }
  return on == 1;
}

bool set_kernels_enabled(Isa isa, bool on) {
  const bool previous = kernels_enabled(isa);
  g_enabled[index(isa)].store(on && has(isa) ? 1 : 0, std::memory_order_relaxed);
  return previous;
}

}  // namespace mg::cpu
