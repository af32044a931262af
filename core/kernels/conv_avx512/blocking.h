// The sizes that shape the AVX-512 convolution kernels' work, named once with their reasons. None of them
// depends on the thread count, so neither does any result.
#pragma once
#include <algorithm>
#include <cstdint>

namespace mg::kernels::avx512 {

// The micro-kernel's register tile: kMR rows x kNR columns (two 16-float vectors), 16 of the 32 zmm
// registers as accumulators, 2 for B, 1 for the broadcast A.
constexpr int64_t kMR = 8;
constexpr int64_t kNR = 32;

// Longest reduction run per packed strip: 384 x 32 floats (48 KiB) of B stay in L1/L2 while every row
// panel of A passes over them.
constexpr int64_t kMaxDepth = 384;

// Strips per column block when the reduction takes several kMaxDepth runs: each packed run of A is then
// used for 4 strips (128 columns) before the next one is read.
constexpr int64_t kSplitStrips = 4;

// Columns of the weight gradient's reduction whose gyᵀ is packed at a time (whole output rows, about this
// many): 256 x 32 floats per strip.
constexpr int64_t kReductionBlock = 256;

// A parallel task does at least this many flops: below it, TBB's scheduling costs more than it saves.
constexpr double kMinTaskFlops = 4e6;

// Plain copies and transposes give each task at least this many floats (64 KiB).
constexpr int64_t kCopyFloatsPerTask = 16384;

// The weight gradient's fixed split: at most this many tasks (row-panel ranges times sample groups),
// each range's share of gWᵀ at least kWeightGradShareFloats floats (every task packs gyᵀ for its own
// columns, so fewer, larger ranges repack less).
constexpr int64_t kWeightGradTasks = 8;
constexpr int64_t kWeightGradShareFloats = 65536;

// The weight gradient's final sum over sample groups: each task adds at least this many floats.
constexpr int64_t kGroupSumFloatsPerTask = 65536;

inline int64_t round_up(int64_t value, int64_t multiple) { return (value + multiple - 1) / multiple * multiple; }

// Items per task when each item costs `flops`.
inline int64_t grain_for_flops(double flops) {
  return std::max<int64_t>(1, static_cast<int64_t>(kMinTaskFlops / flops));
}

// Items per task when each item is `floats` floats to copy, add or transform, for `per_task` floats a task.
inline int64_t grain_for_floats(int64_t floats, int64_t per_task = kCopyFloatsPerTask) {
  return std::max<int64_t>(1, per_task / std::max<int64_t>(floats, 1));
}

}  // namespace mg::kernels::avx512
