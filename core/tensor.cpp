#include "core/tensor.h"

#include <algorithm>
#include <cstring>
#include <sstream>

#include "core/strided.h"

namespace mg {

Tensor::Tensor(std::shared_ptr<Storage> storage, Shape shape, Strides strides, int64_t offset, DType dtype)
    : storage_(std::move(storage)), shape_(std::move(shape)), strides_(std::move(strides)), offset_(offset),
      dtype_(dtype) {}

Tensor Tensor::view_with(Shape shape, Strides strides, int64_t offset) const {
  return Tensor(storage_, std::move(shape), std::move(strides), offset, dtype_);
}

Tensor Tensor::empty(const Shape& shape, DType dtype) {
  for (int64_t s : shape) MG_CHECK(s >= 0, "empty: negative size in shape ", to_string(shape));
  auto storage = std::make_shared<Storage>(static_cast<std::size_t>(mg::numel(shape)) * dtype_size(dtype));
  return Tensor(std::move(storage), shape, contiguous_strides(shape), 0, dtype);
}

Tensor Tensor::zeros(const Shape& shape, DType dtype) {
  Tensor t = empty(shape, dtype);
  std::memset(t.storage_->data(), 0, t.numel() * dtype_size(dtype));
  return t;
}

Tensor Tensor::ones(const Shape& shape, DType dtype) { return full(shape, 1.0, dtype); }

Tensor Tensor::full(const Shape& shape, double value, DType dtype) { return empty(shape, dtype).fill_(value); }

Tensor Tensor::scalar(double value, DType dtype) { return full({}, value, dtype); }

Tensor Tensor::arange(int64_t n, DType dtype) {
  Tensor t = empty({n}, dtype);
  visit_dtype(dtype, [&]<typename T>() {
    T* p = t.data<T>();
    for (int64_t i = 0; i < n; ++i) p[i] = static_cast<T>(i);
  });
  return t;
}

Tensor Tensor::from_vector(const std::vector<double>& values, const Shape& shape, DType dtype) {
  return visit_dtype(dtype, [&]<typename T>() {
    return from_vector(std::vector<T>(values.begin(), values.end()), shape);
  });
}

int64_t Tensor::size(int64_t axis) const { return shape_[normalize_axis(axis, dim())]; }

bool Tensor::is_contiguous() const {
  int64_t expected = 1;
  for (int64_t d = dim() - 1; d >= 0; --d) {
    if (shape_[d] == 1) continue;
    if (strides_[d] != expected) return false;
    expected *= shape_[d];
  }
  return true;
}

std::span<const std::byte> Tensor::bytes() const {
  MG_CHECK(defined(), "bytes(): tensor is undefined");
  MG_CHECK(is_contiguous(), "bytes(): tensor ", describe(*this), " is not contiguous; call contiguous() first");
  return {storage_->data() + offset_ * dtype_size(dtype_), static_cast<std::size_t>(numel()) * dtype_size(dtype_)};
}

Tensor Tensor::contiguous() const { return is_contiguous() ? *this : clone(); }

Tensor Tensor::clone() const {
  Tensor out = empty(shape_, dtype_);
  out.copy_(*this);
  return out;
}

Tensor Tensor::to(DType dtype) const {
  if (dtype == dtype_) return *this;
  Tensor src = contiguous();
  Tensor out = empty(shape_, dtype);
  visit_dtype(dtype_, [&]<typename S>() {
    visit_dtype(dtype, [&]<typename D>() {
      const S* s = src.data<S>();
      D* d = out.data<D>();
      const int64_t n = numel();
      parallel_for(0, n, 1 << 15, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) d[i] = static_cast<D>(s[i]);
      });
    });
  });
  return out;
}

Tensor Tensor::reshape(const Shape& requested) const {
  Shape shape = requested;
  int64_t known = 1, infer = -1;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      MG_CHECK(infer < 0, "reshape: more than one -1 in ", to_string(requested));
      infer = static_cast<int64_t>(i);
    } else {
      known *= shape[i];
    }
  }
  if (infer >= 0) {
    MG_CHECK(known > 0 && numel() % known == 0, "reshape: cannot reshape ", describe(*this), " to ",
             to_string(requested));
    shape[infer] = numel() / known;
  }
  MG_CHECK(mg::numel(shape) == numel(), "reshape: cannot reshape ", describe(*this), " (", numel(),
           " elements) to ", to_string(requested));
  const Tensor src = contiguous();
  return src.view_with(shape, contiguous_strides(shape), src.offset_);
}

Tensor Tensor::permute(const std::vector<int64_t>& order) const {
  MG_CHECK(static_cast<int64_t>(order.size()) == dim(), "permute: order has ", order.size(),
           " axes but the tensor is ", describe(*this));
  Shape shape(order.size());
  Strides strides(order.size());
  std::vector<bool> seen(order.size(), false);
  for (std::size_t i = 0; i < order.size(); ++i) {
    const int64_t a = normalize_axis(order[i], dim());
    MG_CHECK(!seen[a], "permute: axis ", order[i], " repeated");
    seen[a] = true;
    shape[i] = shape_[a];
    strides[i] = strides_[a];
  }
  return view_with(shape, strides, offset_);
}

Tensor Tensor::transpose(int64_t a, int64_t b) const {
  std::vector<int64_t> order(dim());
  for (int64_t i = 0; i < dim(); ++i) order[i] = i;
  std::swap(order[normalize_axis(a, dim())], order[normalize_axis(b, dim())]);
  return permute(order);
}

Tensor Tensor::slice(int64_t axis, int64_t start, int64_t end, int64_t step) const {
  axis = normalize_axis(axis, dim());
  MG_CHECK(step > 0, "slice: step must be positive, got ", step);
  const int64_t n = shape_[axis];
  if (start < 0) start += n;
  if (end < 0) end += n;
  start = std::clamp<int64_t>(start, 0, n);
  end = std::clamp<int64_t>(end, start, n);
  Shape shape = shape_;
  Strides strides = strides_;
  shape[axis] = (end - start + step - 1) / step;
  strides[axis] = strides_[axis] * step;
  return view_with(shape, strides, offset_ + start * strides_[axis]);
}

Tensor Tensor::select(int64_t axis, int64_t index) const {
  axis = normalize_axis(axis, dim());
  const int64_t n = shape_[axis];
  MG_CHECK(index >= -n && index < n, "select: index ", index, " out of range for axis ", axis, " of ",
           describe(*this));
  if (index < 0) index += n;
  Shape shape = shape_;
  Strides strides = strides_;
  shape.erase(shape.begin() + axis);
  strides.erase(strides.begin() + axis);
  return view_with(shape, strides, offset_ + index * strides_[axis]);
}

Tensor Tensor::expand(const Shape& target) const {
  MG_CHECK(target.size() >= shape_.size(), "expand: cannot expand ", describe(*this), " to ",
           to_string(target));
  const std::size_t lead = target.size() - shape_.size();
  Strides strides(target.size(), 0);
  for (std::size_t i = 0; i < shape_.size(); ++i) {
    const int64_t have = shape_[i], want = target[lead + i];
    MG_CHECK(have == want || have == 1, "expand: cannot expand ", describe(*this), " to ",
             to_string(target));
    strides[lead + i] = have == want ? strides_[i] : 0;
  }
  return view_with(target, strides, offset_);
}

Tensor Tensor::unsqueeze(int64_t axis) const {
  axis = normalize_axis(axis, dim() + 1);
  Shape shape = shape_;
  Strides strides = strides_;
  const int64_t stride = axis < dim() ? strides_[axis] * shape_[axis] : 1;
  shape.insert(shape.begin() + axis, 1);
  strides.insert(strides.begin() + axis, stride);
  return view_with(shape, strides, offset_);
}

Tensor Tensor::squeeze(int64_t axis) const {
  axis = normalize_axis(axis, dim());
  if (shape_[axis] != 1) return *this;
  Shape shape = shape_;
  Strides strides = strides_;
  shape.erase(shape.begin() + axis);
  strides.erase(strides.begin() + axis);
  return view_with(shape, strides, offset_);
}

Tensor Tensor::flatten(int64_t start, int64_t end) const {
  if (dim() == 0) return reshape({1});
  start = normalize_axis(start, dim());
  end = normalize_axis(end, dim());
  Shape shape(shape_.begin(), shape_.begin() + start);
  int64_t merged = 1;
  for (int64_t d = start; d <= end; ++d) merged *= shape_[d];
  shape.push_back(merged);
  shape.insert(shape.end(), shape_.begin() + end + 1, shape_.end());
  return reshape(shape);
}

double Tensor::item() const {
  MG_CHECK(numel() == 1, "item(): expected a tensor with one element, got ", describe(*this));
  return at(std::vector<int64_t>(dim(), 0));
}

double Tensor::at(const std::vector<int64_t>& index) const {
  MG_CHECK(static_cast<int64_t>(index.size()) == dim(), "at(): ", index.size(), " indices for ", describe(*this));
  int64_t off = offset_;
  for (int64_t d = 0; d < dim(); ++d) {
    MG_CHECK(index[d] >= 0 && index[d] < shape_[d], "at(): index ", index[d], " out of range for axis ", d,
             " of ", describe(*this));
    off += index[d] * strides_[d];
  }
  return visit_dtype(dtype_, [&]<typename T>() {
    return static_cast<double>(reinterpret_cast<const T*>(storage_->data())[off]);
  });
}

std::vector<double> Tensor::to_vector() const {
  const Tensor c = contiguous();
  return visit_dtype(dtype_, [&]<typename T>() {
    const T* p = c.data<T>();
    return std::vector<double>(p, p + numel());
  });
}

Tensor& Tensor::fill_(double value) {
  visit_dtype(dtype_, [&]<typename T>() {
    T* base = reinterpret_cast<T*>(storage_->data());
    const T v = static_cast<T>(value);
    for_each_row<1>(shape_, {&strides_}, [&](const std::array<int64_t, 1>& off, int64_t n,
                                             const std::array<int64_t, 1>& s) {
      T* p = base + offset_ + off[0];
      for (int64_t i = 0; i < n; ++i) p[i * s[0]] = v;
    });
  });
  bump_version();
  return *this;
}

Tensor& Tensor::copy_(const Tensor& src) {
  MG_CHECK(src.dtype_ == dtype_, "copy_: dtype mismatch, destination ", describe(*this), ", source ",
           describe(src));
  const Tensor s = src.expand(shape_);
  visit_dtype(dtype_, [&]<typename T>() {
    T* dst = reinterpret_cast<T*>(storage_->data()) + offset_;
    const T* from = reinterpret_cast<const T*>(s.storage_->data()) + s.offset_;
    for_each_row<2>(shape_, {&strides_, &s.strides_}, [&](const std::array<int64_t, 2>& off, int64_t n,
                                                           const std::array<int64_t, 2>& st) {
      T* d = dst + off[0];
      const T* f = from + off[1];
      if (st[0] == 1 && st[1] == 1) {
        std::memcpy(d, f, n * sizeof(T));
      } else {
        for (int64_t i = 0; i < n; ++i) d[i * st[0]] = f[i * st[1]];
      }
    });
  });
  bump_version();
  return *this;
}

std::string describe(const Tensor& t) {
  if (!t.defined()) return "undefined tensor";
  return std::string(dtype_name(t.dtype())) + to_string(t.shape());
}

}  // namespace mg
