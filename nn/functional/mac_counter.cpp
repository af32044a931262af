// The multiply-add counter behind the benchmark's FLOP figures (nn::MacCounter in nn/functional.h).
#include <atomic>

#include "core/error.h"
#include "nn/functional.h"

namespace mg::nn {
namespace {
std::atomic<bool> g_active{false};
std::atomic<int64_t> g_macs{0};
}  // namespace

MacCounter::MacCounter() {
  MG_CHECK(!g_active.exchange(true), "MacCounter: only one counter may be alive at a time");
  g_macs = 0;
}
MacCounter::~MacCounter() { g_active = false; }
int64_t MacCounter::macs() const { return g_macs.load(); }

void detail::count_macs(int64_t macs) {
  if (g_active.load(std::memory_order_relaxed)) g_macs.fetch_add(macs, std::memory_order_relaxed);
}

}  // namespace mg::nn
