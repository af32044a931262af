#include "core/kernels/bf16/conv_avx512.h"

#include <algorithm>
#include <vector>

#include "core/bf16.h"
#include "core/kernels/bf16/gemm.h"
#include "core/kernels/conv_avx512/blocking.h"
#include "core/kernels/conv_avx512/geometry.h"
#include "core/kernels/conv_avx512/micro_kernel.h"
#include "core/kernels/conv_avx512/pack.h"
#include "core/kernels/conv_avx512/product.h"
#include "core/parallel.h"
#include "core/tensor.h"
#include "core/kernels/bf16/simd.h"

MG_BF16_AVX512_BEGIN
namespace mg::kernels::bf16 {
namespace {

using avx512::kMR;
using avx512::kNR;
using avx512::round_up;
using avx512::Scratch;

// The weight gradient's blocks: the pixel pairs of whole samples packed at a time (at least 2 samples, so
// both threads pack), and the pairs one pass of a gWᵀ tile runs over (kMaxDepth's bytes of B per strip).
constexpr int64_t kWeightGradChunkPairs = 512;
constexpr int64_t kWeightGradPassPairs = avx512::kMaxDepth;

Scratch& scratch_words() {  // packed pair words of B
  thread_local Scratch scratch;
  return scratch;
}
Scratch& scratch_rows() {  // float rows before pairing (B strips), or a sample's im2col (weight gradient)
  thread_local Scratch scratch;
  return scratch;
}

Scratch& scratch_cols() {  // the input gradient's cols of a sample group
  thread_local Scratch scratch;
  return scratch;
}

uint32_t* as_words(float* p) { return reinterpret_cast<uint32_t*>(p); }

// C[MR × 32] = (acc ? C : 0) + Σ_j the pair products of A's row r, word j (a[r * lda + j]) and B's pair row j
// (b[j * 32 + t]), each element one running sum in j's order: the reference's order, continued across calls.
template <int MR, bool kNative>
void micro_pairs(int64_t kc, const uint32_t* a, int64_t lda, const uint32_t* b, float* c, int64_t ldc, bool acc) {
  __m512 lo[MR], hi[MR];
  for (int r = 0; r < MR; ++r) {
    lo[r] = acc ? _mm512_loadu_ps(c + r * ldc) : _mm512_setzero_ps();
    hi[r] = acc ? _mm512_loadu_ps(c + r * ldc + 16) : _mm512_setzero_ps();
  }
  for (int64_t j = 0; j < kc; ++j, b += kNR) {
    const __m512i b0 = _mm512_loadu_si512(b), b1 = _mm512_loadu_si512(b + 16);
    for (int r = 0; r < MR; ++r) {
      const __m512i aw = _mm512_set1_epi32(static_cast<int>(a[r * lda + j]));
      lo[r] = dot_pairs<kNative>(lo[r], aw, b0);
      hi[r] = dot_pairs<kNative>(hi[r], aw, b1);
    }
  }
  for (int r = 0; r < MR; ++r) {
    _mm512_storeu_ps(c + r * ldc, lo[r]);
    _mm512_storeu_ps(c + r * ldc + 16, hi[r]);
  }
}

template <int MR, bool kNative>
void micro(int64_t kc, const uint32_t* a, int64_t lda, const uint32_t* b, float* c, int64_t ldc, bool acc) {
  if constexpr (kNative) {
    micro_pairs<MR, true>(kc, a, lda, b, c, ldc, acc);
  } else {
    const DenormalsFlushed flushed;
    micro_pairs<MR, false>(kc, a, lda, b, c, ldc, acc);
  }
}

// B for the product engine (conv_avx512/product.h), k counted in pairs: strips of 32 columns, word
// [jj * 32 + t] = (row 2j, row 2j + 1) of a float matrix of `rows` rows (an odd last row paired with 0), whose
// rows [r0, r0 + count) × columns [n0, n0 + nc) pack_rows(r0, count, n0, nc, dst) writes as dst[r * 32 + t]
// (0 past nc).
template <typename PackRows, bool kNative>
class PairStrips {
 public:
  PairStrips(const PackRows& pack_rows, int64_t rows) : pack_rows_(pack_rows), rows_(rows) {}
  void reserve(const avx512::Blocking& bl) {
    buf_ = as_words(scratch_words().get(static_cast<std::size_t>(bl.strips * bl.kc * kNR)));
  }
  void prefetch(int64_t, int64_t) const {}
  void start_block(int64_t, int64_t, int64_t) {}
  void load(int64_t j0, int64_t kc, int64_t n0, int64_t nb, int64_t strips) {
    float* rows = scratch_rows().get(static_cast<std::size_t>(2 * kc * kNR));
    const int64_t r0 = 2 * j0, count = std::min(2 * kc, rows_ - r0);
    for (int64_t s = 0; s < strips; ++s) {
      pack_rows_(r0, count, n0 + s * kNR, std::min(kNR, nb - s * kNR), rows);
      std::fill(rows + count * kNR, rows + 2 * kc * kNR, 0.0f);  // the odd last row's partner
      uint32_t* dst = buf_ + s * kc * kNR;
      for (int64_t jj = 0; jj < kc; ++jj)
        for (int64_t h = 0; h < kNR; h += 16)
          _mm512_storeu_si512(dst + jj * kNR + h, pair_words(_mm512_loadu_ps(rows + 2 * jj * kNR + h),
                                                             _mm512_loadu_ps(rows + (2 * jj + 1) * kNR + h)));
    }
  }
  template <int MR>
  void multiply(int64_t kc, const uint32_t* a, int64_t rs, int64_t, int64_t, int64_t s, float* c, int64_t ldc,
                bool acc) const {
    micro<MR, kNative>(kc, a, rs, buf_ + s * kc * kNR, c, ldc, acc);
  }

 private:
  const PackRows& pack_rows_;
  int64_t rows_;
  uint32_t* buf_ = nullptr;
};

// Calls fn.template operator()<kNative>() with kNative = native.
template <typename Fn>
void with_native(bool native, Fn&& fn) {
  if (native) return fn.template operator()<true>();
  fn.template operator()<false>();
}

std::vector<float> transposed(const float* a, int64_t rows, int64_t cols) {
  std::vector<float> t(static_cast<std::size_t>(rows * cols));
  parallel_for(0, rows, avx512::grain_for_floats(cols), [&](int64_t r0, int64_t r1) {
    for (int64_t i = r0; i < r1; ++i)
      for (int64_t j = 0; j < cols; ++j) t[j * rows + i] = a[i * cols + j];
  });
  return t;
}

// The weight gradient's A for one sample when its pixel pairs never straddle an output row (stride 1, even
// output width): a zero-bordered bf16 copy of the sample, in which the pair word (im2col row (c, i, j), pixels
// 2q, 2q + 1) is two neighbouring bf16 values, so each output row of each im2col row is one copy of out_w
// values. a: im2col rows ld words apart, this sample's pairs from a[0].
void pack_weight_grad_a_stride1(const float* x, const Conv2dShape& s, uint32_t* a, int64_t ld) {
  const int64_t hp = s.height + 2 * s.padding, wp = s.width + 2 * s.padding;
  thread_local std::vector<uint16_t> padded;
  padded.assign(static_cast<std::size_t>(s.in_channels * hp * wp), 0);
  for (int64_t c = 0; c < s.in_channels; ++c)
    for (int64_t ih = 0; ih < s.height; ++ih) {
      const float* src = x + (c * s.height + ih) * s.width;
      uint16_t* dst = padded.data() + (c * hp + ih + s.padding) * wp + s.padding;
      for (int64_t iw = 0; iw < s.width; iw += 16) {
        const __mmask16 m = s.width - iw >= 16 ? 0xffff : static_cast<__mmask16>((1u << (s.width - iw)) - 1);
        const __m512i bits = to_bf16_bits(_mm512_castps_si512(_mm512_maskz_loadu_ps(m, src + iw)));
        _mm256_mask_storeu_epi16(dst + iw, m, _mm512_cvtepi32_epi16(bits));
      }
    }
  const int64_t row_words = s.out_w / 2;
  for (int64_t c = 0; c < s.in_channels; ++c)
    for (int64_t i = 0; i < s.kernel_h; ++i)
      for (int64_t j = 0; j < s.kernel_w; ++j) {
        uint32_t* dst = a + ((c * s.kernel_h + i) * s.kernel_w + j) * ld;
        for (int64_t oh = 0; oh < s.out_h; ++oh) {  // short rows: masked vector copies, not memcpy calls
          const uint16_t* src = padded.data() + (c * hp + oh + i) * wp + j;
          for (int64_t q = 0; q < row_words; q += 16) {
            const __mmask16 m = avx512::lanes(0, row_words - q);
            _mm512_mask_storeu_epi32(dst + oh * row_words + q, m, _mm512_maskz_loadu_epi32(m, src + 2 * q));
          }
        }
      }
}

}  // namespace

void conv2d_forward_avx512(bool native, const float* x, const float* w, const float* bias, float* y,
                           const Conv2dShape& s) {
  if (s.batch * s.out_plane() == 0 || s.out_channels == 0) return;
  const avx512::Geom g = avx512::forward_geom(s);
  const int64_t k = g.k(), pairs = (k + 1) / 2, o = s.out_channels;
  const std::vector<uint32_t> a = pack_rows(w, o, k, k);
  std::vector<float> rounded_bias;
  if (bias)
    for (int64_t c = 0; c < o; ++c) rounded_bias.push_back(mg::bf16::round(bias[c]));
  const auto store = [&](int64_t n0, int64_t nc, const float* cbuf, int64_t ld) {
    avx512::store_planes(y, bias ? rounded_bias.data() : nullptr, o, g.p(), n0, nc, cbuf, ld);
  };
  const auto pack = [&](int64_t r0, int64_t count, int64_t n0, int64_t nc, float* dst) {
    avx512::pack_im2col(x, g, r0, count, avx512::row_segments(g, n0, nc), nc, kNR, dst, kNR);
  };
  with_native(native, [&]<bool kNative>() {
    avx512::product(o, pairs, a.data(), pairs, 1, g.batch * g.p(), PairStrips<decltype(pack), kNative>(pack, k), store);
  });
}

void conv2d_input_grad_avx512(bool native, const float* gy, const float* w, float* gx, const Conv2dShape& s) {
  if (s.batch == 0 || s.in_channels == 0) return;
  const int64_t k = s.col_rows(), o = s.out_channels, pairs = (o + 1) / 2, p = s.out_plane();
  const std::vector<float> wt = transposed(w, o, k);  // (k, O)
  const std::vector<uint32_t> a = pack_rows(wt.data(), k, o, o);
  const auto pack = [&](int64_t r0, int64_t count, int64_t n0, int64_t nc, float* dst) {
    avx512::pack_channel_rows(gy, o, p, r0, count, n0, nc, dst);
  };
  // Samples in groups of at least 32 columns; a group's cols (k × its columns) go to col2im sample by sample.
  const int64_t group = std::max<int64_t>(1, (kNR + p - 1) / p), groups = (s.batch + group - 1) / group;
  with_native(native, [&]<bool kNative>() {
    parallel_for(0, groups, 1, [&](int64_t g0, int64_t g1) {
      PairStrips<decltype(pack), kNative> b(pack, o);
      for (int64_t gi = g0; gi < g1; ++gi) {
        const int64_t first = gi * group, last = std::min(s.batch, first + group), width = (last - first) * p;
        float* cols = scratch_cols().get(static_cast<std::size_t>(k * width));
        const auto store = [&](int64_t n0, int64_t nc, const float* cbuf, int64_t ld) {
          for (int64_t r = 0; r < k; ++r) std::copy(cbuf + r * ld, cbuf + r * ld + nc, cols + r * width + (n0 - first * p));
        };
        avx512::product_range(k, pairs, a.data(), pairs, 1, first * p, last * p, b, store);
        for (int64_t n = first; n < last; ++n) col2im(cols + (n - first) * p, width, s, gx + n * s.in_sample());
      }
    });
  });
}

void conv2d_weight_grad_avx512(bool native, const float* x, const float* gy, float* gw, const Conv2dShape& s) {
  const int64_t k = s.col_rows(), o = s.out_channels, p = s.out_plane(), pp = (p + 1) / 2;
  const int64_t op = round_up(o, kNR), strips = op / kNR, panels = (k + kMR - 1) / kMR;
  if (k == 0 || o == 0) return;
  if (s.batch == 0 || p == 0) {
    std::fill(gw, gw + o * k, 0.0f);
    return;
  }
  const int64_t chunk = std::clamp<int64_t>(kWeightGradChunkPairs / pp, 2, std::max<int64_t>(s.batch, 2));
  const int64_t chunk_pairs = chunk * pp;
  std::vector<uint32_t> a(static_cast<std::size_t>(k * chunk_pairs));            // im2col rows, pair words
  std::vector<uint32_t> b(static_cast<std::size_t>(strips * chunk_pairs * kNR));  // gyᵀ strips (0 past o)
  std::vector<float> gwt(static_cast<std::size_t>(k * op));                       // gWᵀ, running sums
  for (int64_t n0 = 0; n0 < s.batch; n0 += chunk) {
    const int64_t count = std::min(chunk, s.batch - n0), cp = count * pp;  // rows of a and b are cp words apart
    parallel_for(0, count, 1, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) {
        if (s.stride == 1 && s.out_w % 2 == 0) {
          pack_weight_grad_a_stride1(x + (n0 + i) * s.in_sample(), s, a.data() + i * pp, cp);
        } else {
          float* col = scratch_rows().get(static_cast<std::size_t>(k * p));
          im2col(x + (n0 + i) * s.in_sample(), s, col, p);
          for (int64_t r = 0; r < k; ++r) pack_rows_avx512(col + r * p, 1, p, p, a.data() + r * cp + i * pp);
        }
        uint32_t* words = as_words(scratch_words().get(static_cast<std::size_t>(o * pp)));
        pack_rows_avx512(gy + (n0 + i) * s.out_sample(), o, p, p, words);  // (o, pp)
        for (int64_t oc = 0; oc < o; ++oc) {
          uint32_t* dst = b.data() + (oc / kNR) * cp * kNR + i * pp * kNR + oc % kNR;
          for (int64_t q = 0; q < pp; ++q) dst[q * kNR] = words[oc * pp + q];
        }
      }
    });
    with_native(native, [&]<bool kNative>() {
      parallel_for(0, panels, 1, [&](int64_t p0, int64_t p1) {
        for (int64_t j0 = 0; j0 < cp; j0 += kWeightGradPassPairs) {
          const int64_t jc = std::min(kWeightGradPassPairs, cp - j0);
          const bool acc = n0 > 0 || j0 > 0;
          for (int64_t pi = p0; pi < p1; ++pi)
            avx512::with_panel_rows(std::min(kMR, k - pi * kMR), [&]<int MR>() {
              for (int64_t si = 0; si < strips; ++si)
                micro<MR, kNative>(jc, a.data() + pi * kMR * cp + j0, cp, b.data() + (si * cp + j0) * kNR,
                                   gwt.data() + pi * kMR * op + si * kNR, op, acc);
            });
        }
      });
    });
  }
  parallel_for(0, o, avx512::grain_for_floats(k), [&](int64_t o0, int64_t o1) {
    for (int64_t oc = o0; oc < o1; ++oc)
      for (int64_t r = 0; r < k; ++r) gw[oc * k + r] = gwt[r * op + oc];
  });
}

}  // namespace mg::kernels::bf16
MG_BF16_AVX512_END
