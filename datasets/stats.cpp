#include "datasets/stats.h"

#include <array>
#include <cmath>
#include <mutex>

#include "core/parallel.h"

namespace mg::data {

ChannelStats channel_stats(const Dataset& ds) {
  const int64_t C = ds.channels, plane = ds.height * ds.width;
  std::vector<std::array<uint64_t, 256>> hist(C, std::array<uint64_t, 256>{});
  std::mutex merge;
  // Images are split across threads; each chunk counts bytes locally, then adds its counts (integer sums,
  // so the result does not depend on the split).
  parallel_for(0, ds.size(), 256, [&](int64_t begin, int64_t end) {
    std::vector<std::array<uint64_t, 256>> local(C, std::array<uint64_t, 256>{});
    for (int64_t i = begin; i < end; ++i)
      for (int64_t c = 0; c < C; ++c) {
        const uint8_t* p = ds.image(i) + c * plane;
        auto& h = local[c];
        for (int64_t k = 0; k < plane; ++k) ++h[p[k]];
      }
    std::lock_guard<std::mutex> lock(merge);
    for (int64_t c = 0; c < C; ++c)
      for (int v = 0; v < 256; ++v) hist[c][v] += local[c][v];
  });
  ChannelStats s;
  for (int64_t c = 0; c < C; ++c) {
    double n = 0, sum = 0;
    for (int v = 0; v < 256; ++v) {
      n += double(hist[c][v]);
      sum += double(hist[c][v]) * (v / 255.0);
    }
    const double mean = n > 0 ? sum / n : 0.0;
    double var = 0;
    for (int v = 0; v < 256; ++v) var += double(hist[c][v]) * (v / 255.0 - mean) * (v / 255.0 - mean);
    s.mean.push_back(mean);
    s.std.push_back(n > 0 ? std::sqrt(var / n) : 0.0);
  }
  return s;
}

}  // namespace mg::data
