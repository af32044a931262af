// 2-D convolution kernels (NCHW input, OIHW weight, PyTorch's cross-correlation). float32 on a CPU with
// AVX-512 runs the implicit-GEMM and Winograd kernels of conv_avx512.h; float64, and float32 elsewhere (or
// with MIXGRAD_NO_AVX512=1), runs im2col + GEMM here.
//
// The im2col path processes samples in "chunks": a fixed number of consecutive samples whose im2col
// matrices sit side by side, so that each GEMM has at least kMinGemmColumns columns even for small feature
// maps (4x4 maps would otherwise give GEMMs 16 columns wide). The chunking depends only on the shapes,
// never on the thread count, and every GEMM is a single-threaded mg::gemm_serial call, so all three
// kernels give bitwise identical results on 1 and N threads.
#pragma once
#include <cstdint>

namespace mg::kernels {

struct Conv2dShape {
  int64_t batch = 0, in_channels = 0, height = 0, width = 0;
  int64_t out_channels = 0, kernel_h = 0, kernel_w = 0, stride = 1, padding = 0;
  int64_t out_h = 0, out_w = 0;

  int64_t col_rows() const { return in_channels * kernel_h * kernel_w; }  // GEMM depth (C * kh * kw)
  int64_t in_plane() const { return height * width; }
  int64_t out_plane() const { return out_h * out_w; }
  int64_t in_sample() const { return in_channels * in_plane(); }   // elements of one input sample
  int64_t out_sample() const { return out_channels * out_plane(); }  // elements of one output sample
  // 1x1 kernel, stride 1, no padding: the im2col matrix of a sample is the sample itself.
  bool pointwise() const { return kernel_h == 1 && kernel_w == 1 && stride == 1 && padding == 0; }
  int64_t chunk_samples() const;  // samples per GEMM
  int64_t chunks() const;         // ceil(batch / chunk_samples())
};

// Fills in out_h/out_w: (size + 2 padding - kernel) / stride + 1. Sizes must already be validated.
Conv2dShape make_conv2d_shape(int64_t batch, int64_t in_channels, int64_t height, int64_t width,
                              int64_t out_channels, int64_t kernel_h, int64_t kernel_w, int64_t stride,
                              int64_t padding);

// Writes the im2col matrix of one sample x (C, H, W): row (c, i, j), column oh * out_w + ow holds
// x[c, oh * stride - padding + i, ow * stride - padding + j], or 0 outside the image. Rows of `col` are
// `ld` elements apart. Serial (called per sample inside the parallel loops below).
template <typename T>
void im2col(const T* x, const Conv2dShape& s, T* col, int64_t ld);

// The adjoint of im2col: sets x (C, H, W) to the sum of every col entry that im2col would have read from
// each position (positions no window touches get 0). Serial.
template <typename T>
void col2im(const T* col, int64_t ld, const Conv2dShape& s, T* x);

// y (N, O, H', W') = conv2d(x (N, C, H, W), w (O, C, kh, kw)) + bias (O, or nullptr).
// Threads: chunks of samples run in parallel; each chunk is one im2col and one serial GEMM.
template <typename T>
void conv2d_forward(const T* x, const T* w, const T* bias, T* y, const Conv2dShape& s);

// gx (N, C, H, W) = the gradient of dot(conv2d(x, w), gy) with respect to x (a transposed convolution).
// Threads: chunks of samples run in parallel; each chunk is one serial GEMM and one col2im per sample.
template <typename T>
void conv2d_input_grad(const T* gy, const T* w, T* gx, const Conv2dShape& s);

// gw (O, C, kh, kw) = the gradient of dot(conv2d(x, w), gy) with respect to w, summed over the batch.
// Threads: the chunks are split into a fixed number of groups (at most kWeightGradGroups, chosen from the
// shape only); groups run in parallel, each accumulating its chunks in order into its own partial sum;
// the partial sums are then added in group order. The result does not depend on the thread count, nor on
// the partial-buffer cap of conv_memory.h (groups beyond the cap run in later waves, same order).
template <typename T>
void conv2d_weight_grad(const T* x, const T* gy, T* gw, const Conv2dShape& s);

}  // namespace mg::kernels
