// Walking N operands of one shape with their own strides: the engine behind elementwise kernels and copies.
// Dimensions that are contiguous for every operand are merged first, so a contiguous op is one flat loop.
// Work is split across threads by rows of the innermost dimension (long rows in fixed pieces); each element
// is written exactly once, so results do not depend on the thread count.
#pragma once
#include <algorithm>
#include <array>
#include <cstdint>

#include "core/parallel.h"
#include "core/shape.h"

namespace mg {

template <std::size_t N>
struct StridedLayout {
  Shape shape;                         // merged shape (at least one dimension)
  std::array<Strides, N> strides;      // per operand, in elements
};

template <std::size_t N>
StridedLayout<N> merge_dims(const Shape& shape, const std::array<const Strides*, N>& strides) {
  StridedLayout<N> out;
  for (std::size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;  // size-1 dims never move the pointer
    bool merge = !out.shape.empty();
    for (std::size_t k = 0; k < N && merge; ++k)
      merge = out.strides[k].back() == (*strides[k])[d] * shape[d];
    if (merge) {
      out.shape.back() *= shape[d];
      for (std::size_t k = 0; k < N; ++k) out.strides[k].back() = (*strides[k])[d];
    } else {
      out.shape.push_back(shape[d]);
      for (std::size_t k = 0; k < N; ++k) out.strides[k].push_back((*strides[k])[d]);
    }
  }
  if (out.shape.empty()) {
    out.shape.push_back(1);
    for (std::size_t k = 0; k < N; ++k) out.strides[k].push_back(1);
  }
  return out;
}

// Calls row(offsets, n, inner_strides) for every innermost row; offsets[k] is operand k's element offset.
template <std::size_t N, typename RowFn>
void for_each_row(const Shape& shape, const std::array<const Strides*, N>& strides, RowFn&& row) {
  const StridedLayout<N> layout = merge_dims<N>(shape, strides);
  const int64_t ndim = static_cast<int64_t>(layout.shape.size());
  const int64_t inner = layout.shape.back();
  int64_t rows = 1;
  for (int64_t d = 0; d + 1 < ndim; ++d) rows *= layout.shape[d];
  std::array<int64_t, N> inner_strides;
  for (std::size_t k = 0; k < N; ++k) inner_strides[k] = layout.strides[k].back();

  // Long rows are cut into pieces of kPiece elements so that a contiguous tensor (one merged row) is
  // still split across threads; callers treat every element independently, so the cut changes nothing.
  constexpr int64_t kPiece = 16384;
  const int64_t pieces = inner > 2 * kPiece ? (inner + kPiece - 1) / kPiece : 1;
  const int64_t piece_len = pieces == 1 ? inner : kPiece;
  const int64_t grain = std::max<int64_t>(1, 32768 / std::max<int64_t>(piece_len, 1));
  parallel_for(0, rows * pieces, grain, [&](int64_t j0, int64_t j1) {
    for (int64_t job = j0; job < j1; ++job) {
      const int64_t r = job / pieces, start = (job % pieces) * piece_len;
      std::array<int64_t, N> offsets{};
      int64_t rest = r;
      for (int64_t d = ndim - 2; d >= 0; --d) {
        const int64_t i = rest % layout.shape[d];
        rest /= layout.shape[d];
        for (std::size_t k = 0; k < N; ++k) offsets[k] += i * layout.strides[k][d];
      }
      for (std::size_t k = 0; k < N; ++k) offsets[k] += start * inner_strides[k];
      row(offsets, std::min(piece_len, inner - start), inner_strides);
    }
  });
}

}  // namespace mg
