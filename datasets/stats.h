// Summary statistics of a Dataset: per-channel mean and standard deviation of its pixels scaled to [0, 1].
#pragma once
#include <vector>

#include "datasets/dataset.h"

namespace mg::data {

struct ChannelStats {
  std::vector<double> mean, std;  // one per channel; std is the population std over all pixels of the channel
};

// Exact per-channel mean/std of pixel/255, from per-channel byte histograms (the same on any thread count).
ChannelStats channel_stats(const Dataset& ds);

}  // namespace mg::data
