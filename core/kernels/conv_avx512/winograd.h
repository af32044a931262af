// Winograd F(2x2, 3x3) for 3x3, stride-1 convolutions with even output sizes (the forward pass, and the
// input gradient as a convolution of gy).
//
// Each 2x2 output tile is computed from a 4x4 input tile d as
//   Y = Aᵀ [ Σ_c (G g_c Gᵀ) ⊙ (Bᵀ d_c B) ] A,
// 16 products per tile and channel instead of 36 (2.25 times fewer multiply-adds). For a block of 32 tiles
// the input transform V = Bᵀ d B is written straight into the micro-kernel's packed strip layout (one
// strip per transform position ξ, rows = input channels); then, for each ξ, M_ξ (O x 32 tiles) =
// U_ξ (O x C) · V_ξ (C x 32) by the same 8x32 micro-kernel, and the output transform turns the 16 M_ξ into
// the 2x2 outputs. The transforms use only additions, subtractions and halvings, so the result differs
// from the direct sum by a few float32 roundings (far inside the PyTorch cross-checks' 1e-4); every tile
// is computed by one task in a fixed order, so it is bitwise identical on 1 and N threads.
//   Bᵀ = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1],  G = [1 0 0; ½ ½ ½; ½ -½ ½; 0 0 1],  Aᵀ = [1 1 1 0; 0 1 -1 -1]
#pragma once
#include <cstdint>
#include <vector>

#include "core/kernels/conv_avx512/simd.h"
#include "core/tensor.h"

MG_AVX512_BEGIN
namespace mg::kernels::avx512 {

// Whether Winograd applies: a 3x3, stride-1 convolution with even, non-empty output sizes, and Winograd
// not switched off (MIXGRAD_NO_WINOGRAD=1, read once).
bool winograd_applies(int64_t kh, int64_t kw, int64_t stride, int64_t oh, int64_t ow);

// The input of a Winograd convolution: planes of h x w, c per sample, read with `pad` zeros around them (the
// borders are masked in the loads, never copied); o output channels.
struct WinogradInput {
  const float* x;
  int64_t batch, c, h, w, pad, o;
  int64_t tile_rows() const { return (h + 2 * pad - 2) / 2; }  // output rows / 2
  int64_t tile_cols() const { return (w + 2 * pad - 2) / 2; }
  int64_t tiles() const { return batch * tile_rows() * tile_cols(); }
};

// A run of tiles in one tile row of one sample: tiles (th, tw0 .. tw0 + len), len <= 16, at column t0 of
// the block of tiles [t0, t0 + nt) that tile_runs cut.
struct TileRun {
  int64_t sample, th, tw0, len, t0;
};
void tile_runs(const WinogradInput& in, int64_t t0, int64_t nt, std::vector<TileRun>& runs);

// V[ξ][cc][t] = (Bᵀ d B)[ξ] of input channel c0 + cc of the runs' tiles, at v[ξ * stride + cc * row_ld + t].
void input_transform(const WinogradInput& in, const std::vector<TileRun>& runs, int64_t c0, int64_t kc, float* v,
                     int64_t row_ld, int64_t stride);

// y (batch, o, h + 2 pad - 2, w + 2 pad - 2) = the 3x3 convolution of the input with weights w (o, c, 3, 3), plus
// bias (or nullptr). Threads: blocks of 32 tiles are split; each tile is computed by one task.
void winograd_conv(const WinogradInput& in, const float* w, const float* bias, float* y);

// gw (o, c, 3, 3) = the gradient of dot(winograd_conv(in, w), gy) with respect to w, for gy (batch, o,
// 2 tile_rows, 2 tile_cols): gw = Gᵀ [ Σ_tiles (Bᵀ d B) ⊙ (A gy_tile Aᵀ) ] G, the Winograd form of the weight gradient
// (winograd_weight_grad.cpp). Threads: transforms split by tiles, the 16 products by input-channel rows;
// every sum runs over the tiles in order, so the result does not depend on the thread count.
void winograd_weight_grad(const WinogradInput& in, const float* gy, float* gw);

// U[ξ][o][c] = (G w[o][c] Gᵀ)[ξ] for weights w (o, c, 3, 3). Threads: output channels are split.
Tensor winograd_weights(const float* w, int64_t o, int64_t c);

}  // namespace mg::kernels::avx512
MG_AVX512_END
