#include "core/kernels/conv_avx512/product.h"

MG_AVX512_BEGIN
namespace mg::kernels::avx512 {

InPlaceLayout::InPlaceLayout(const float* xp_, int64_t c_, int64_t hp_, int64_t wp_, int64_t kh, int64_t kw,
                             int64_t oh, int64_t ow_)
    : xp(xp_),
      c(c_),
      hp(hp_),
      wp(wp_),
      ow(ow_),
      p(oh * ow_),
      padded{0, c_, hp_, wp_, hp_ - oh + 1, wp_ - ow_ + 1, 1, 0, 0, oh, ow_},
      off(static_cast<std::size_t>(c_ * kh * kw)) {
  std::size_t kk = 0;
  for (int64_t ci = 0; ci < c; ++ci)
    for (int64_t i = 0; i < kh; ++i)
      for (int64_t j = 0; j < kw; ++j) off[kk++] = static_cast<int32_t>((ci * hp + i) * wp + j);
}

}  // namespace mg::kernels::avx512
MG_AVX512_END
