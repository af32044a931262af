// The product engine: C (m x n) = A (m x k) · B (k x n), where A's element (r, kk) is a[r * rs + kk * ks],
// B is an operand that yields 32-column strips, and C reaches store(n0, nc, cbuf, ld) in blocks of columns
// (m rows, ld apart). Each C element is computed by one task in a fixed order, so how the column blocks
// are split across threads never changes a result.
//
// Two B operands: PackedB packs each strip from any tensor (im2col, gy rows); InPlaceB reads the strips
// straight from a zero-bordered input when a stride-1 convolution's output rows are a multiple of 16 wide
// (the "direct" path).
#pragma once
#include <vector>

#include "core/kernels/conv_avx512/blocking.h"
#include "core/kernels/conv_avx512/geometry.h"
#include "core/kernels/conv_avx512/micro_kernel.h"
#include "core/parallel.h"

MG_AVX512_BEGIN
namespace mg::kernels::avx512 {

struct Blocking {
  int64_t kc;      // reduction steps per strip
  int64_t strips;  // strips per column block (several when the reduction is split, so A is reused)
  int64_t block() const { return strips * kNR; }
};

inline Blocking blocking(int64_t k) {
  const int64_t blocks = (k + kMaxDepth - 1) / kMaxDepth;
  return {(k + blocks - 1) / blocks, blocks == 1 ? 1 : kSplitStrips};
}

// B produced by pack(k0, kc, n0, nc, dst) as dst[kk * 32 + t] (t >= nc zero); prefetch(n0, nc) asks for
// the memory the columns [n0, n0 + nc) will read.
template <typename Pack, typename Prefetch>
class PackedB {
 public:
  PackedB(const Pack& pack, const Prefetch& prefetch) : pack_(pack), prefetch_(prefetch) {}
  void reserve(const Blocking& bl) { buf_ = scratch_b().get(static_cast<std::size_t>(bl.strips * bl.kc * kNR)); }
  void prefetch(int64_t n0, int64_t nc) const { prefetch_(n0, nc); }
  void start_block(int64_t, int64_t, int64_t) {}
  void load(int64_t k0, int64_t kc, int64_t n0, int64_t nb, int64_t strips) {
    for (int64_t s = 0; s < strips; ++s) pack_(k0, kc, n0 + s * kNR, std::min(kNR, nb - s * kNR), buf_ + s * kc * kNR);
  }
  template <int MR>
  void multiply(int64_t kc, const float* a, int64_t rs, int64_t ks, int64_t, int64_t s, float* c, int64_t ldc,
                bool acc) const {
    micro_packed<MR>(kc, a, rs, ks, buf_ + s * kc * kNR, c, ldc, acc);
  }

 private:
  const Pack& pack_;
  const Prefetch& prefetch_;
  float* buf_ = nullptr;
};

// A stride-1 convolution whose output rows are a multiple of 16 wide: every im2col element is
// xp[c][oh + i][ow + j], so 16 consecutive output positions of one row read 16 consecutive floats of the
// zero-bordered input xp (planes hp x wp), and B can be loaded in place, one offset per reduction step
// (off[kk] for im2col row kk = (c, i, j)).
struct InPlaceLayout {
  InPlaceLayout(const float* xp, int64_t c, int64_t hp, int64_t wp, int64_t kh, int64_t kw, int64_t oh, int64_t ow);
  // Whether the layout applies: rows a multiple of 16 wide, offsets within int32.
  static bool applies(int64_t c, int64_t hp, int64_t wp, int64_t ow) {
    return ow % 16 == 0 && c * hp * wp < (int64_t{1} << 31);
  }
  // Where the 16 output columns starting at global column col (a multiple of 16) read for kk = 0.
  const float* half(int64_t col) const {
    const int64_t n = col / p, pos = col % p;
    return xp + n * c * hp * wp + (pos / ow) * wp + pos % ow;
  }

  const float* xp;
  int64_t c, hp, wp, ow, p;
  Geom padded;  // the product's input as prefetch_input sees it: xp, no padding
  std::vector<int32_t> off;
};

// B read in place through an InPlaceLayout.
class InPlaceB {
 public:
  explicit InPlaceB(const InPlaceLayout& layout) : layout_(layout) {}
  void reserve(const Blocking&) {}
  void prefetch(int64_t n0, int64_t nc) const { prefetch_input(layout_.xp, layout_.padded, n0, nc); }
  void start_block(int64_t n0, int64_t strips, int64_t end) {
    for (int64_t si = 0; si < strips; ++si) {
      const int64_t col = n0 + si * kNR;
      h0_[si] = layout_.half(col);
      h1_[si] = col + 16 < end ? layout_.half(col + 16) : h0_[si];  // a lone last half: computed twice, stored once
    }
  }
  void load(int64_t, int64_t, int64_t, int64_t, int64_t) {}
  template <int MR>
  void multiply(int64_t kc, const float* a, int64_t rs, int64_t ks, int64_t k0, int64_t s, float* c, int64_t ldc,
                bool acc) const {
    micro_in_place_b<MR>(kc, a, rs, ks, layout_.off.data() + k0, h0_[s], h1_[s], c, ldc, acc);
  }

 private:
  const InPlaceLayout& layout_;
  const float* h0_[kSplitStrips] = {};
  const float* h1_[kSplitStrips] = {};
};

// C for the columns [begin, end), serially. A's elements are floats, or the bf16 kernels' pair words (then k
// counts pairs; core/kernels/bf16/conv_avx512.cpp).
template <typename Operand, typename Store, typename AElement>
void product_range(int64_t m, int64_t k, const AElement* a, int64_t rs, int64_t ks, int64_t begin, int64_t end,
                   Operand& b, const Store& store) {
  const Blocking bl = blocking(k);
  const int64_t block = bl.block();
  b.reserve(bl);
  float* cbuf = scratch_c().get(static_cast<std::size_t>(round_up(m, kMR) * block));
  for (int64_t n0 = begin; n0 < end; n0 += block) {
    const int64_t nb = std::min(block, end - n0), strips = (nb + kNR - 1) / kNR;
    if (n0 + block < end) b.prefetch(n0 + block, std::min(block, end - n0 - block));
    b.start_block(n0, strips, end);
    for (int64_t k0 = 0; k0 < k; k0 += bl.kc) {
      const int64_t kc = std::min(bl.kc, k - k0);
      b.load(k0, kc, n0, nb, strips);
      for (int64_t p = 0; p < m; p += kMR)
        with_panel_rows(std::min(kMR, m - p), [&]<int MR>() {
          for (int64_t s = 0; s < strips; ++s)
            b.template multiply<MR>(kc, a + p * rs + k0 * ks, rs, ks, k0, s, cbuf + p * block + s * kNR, block,
                                    k0 > 0);
        });
    }
    store(n0, nb, cbuf, block);
  }
}

// The same over all n columns, column blocks split across threads (each task has its own copy of b).
template <typename Operand, typename Store, typename AElement>
void product(int64_t m, int64_t k, const AElement* a, int64_t rs, int64_t ks, int64_t n, const Operand& b,
             const Store& store) {
  const int64_t block = blocking(k).block(), blocks = (n + block - 1) / block;
  const double flops = 2.0 * static_cast<double>(m) * static_cast<double>(k) * static_cast<double>(block);
  parallel_for(0, blocks, grain_for_flops(flops), [&](int64_t b0, int64_t b1) {
    Operand task_b = b;
    product_range(m, k, a, rs, ks, b0 * block, std::min(n, b1 * block), task_b, store);
  });
}

}  // namespace mg::kernels::avx512
MG_AVX512_END
