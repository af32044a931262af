// 2-D max and average pooling kernels over NCHW tensors viewed as `planes` = N * C independent (H, W)
// planes: square windows, no padding, floor mode (PyTorch's defaults with padding=0, ceil_mode=False).
// Threads: every kernel splits the planes across threads; each plane is handled by one thread in a fixed
// order, so results do not depend on the thread count.
#pragma once
#include <cstdint>

namespace mg::kernels {

struct Pool2dShape {
  int64_t planes = 0, height = 0, width = 0, kernel = 1, stride = 1;
  int64_t out_h = 0, out_w = 0;
  int64_t in_plane() const { return height * width; }
  int64_t out_plane() const { return out_h * out_w; }
};

// Fills in out_h/out_w: (size - kernel) / stride + 1. Sizes must already be validated.
Pool2dShape make_pool2d_shape(int64_t planes, int64_t height, int64_t width, int64_t kernel, int64_t stride);

// y = the maximum of each window of x; argmax = the position of that maximum within its input plane
// (h * W + w; the first one on ties, NaN wins as in PyTorch). argmax may be nullptr (inference).
template <typename T>
void max_pool2d_forward(const T* x, T* y, int32_t* argmax, const Pool2dShape& s);

// gx = the gradient of dot(max_pool2d(x), gy) with respect to x: gy added at argmax, zero elsewhere.
template <typename T>
void max_pool2d_backward(const T* gy, const int32_t* argmax, T* gx, const Pool2dShape& s);

// y[o] = x[argmax[o]] within each plane: the adjoint of max_pool2d_backward (used by double backward).
template <typename T>
void max_pool2d_gather(const T* x, const int32_t* argmax, T* y, const Pool2dShape& s);

// y = the mean of each kernel x kernel window of x.
template <typename T>
void avg_pool2d_forward(const T* x, T* y, const Pool2dShape& s);

// gx = the gradient of dot(avg_pool2d(x), gy) with respect to x: each gy / kernel^2 spread over its window.
template <typename T>
void avg_pool2d_backward(const T* gy, T* gx, const Pool2dShape& s);

}  // namespace mg::kernels
