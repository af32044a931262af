// Tensor: a shape, strides (in elements), an offset and a shared storage. Views (reshape of contiguous data,
// permute, transpose, slice, select, expand) share storage; everything else makes a new contiguous tensor.
// Tensors carry no autograd state: that lives in autograd::Variable, which wraps a Tensor.
#pragma once
#include <initializer_list>
#include <memory>
#include <span>
#include <vector>

#include "core/dtype.h"
#include "core/shape.h"
#include "core/storage.h"

namespace mg {

class Tensor {
 public:
  Tensor() = default;  // undefined tensor; defined() is false

  // Factories. New tensors are contiguous.
  static Tensor empty(const Shape& shape, DType dtype = DType::F32);
  static Tensor zeros(const Shape& shape, DType dtype = DType::F32);
  static Tensor ones(const Shape& shape, DType dtype = DType::F32);
  static Tensor full(const Shape& shape, double value, DType dtype = DType::F32);
  static Tensor scalar(double value, DType dtype = DType::F32);  // 0-d
  static Tensor arange(int64_t n, DType dtype = DType::F32);
  template <typename T>
  static Tensor from_vector(const std::vector<T>& values, const Shape& shape);
  static Tensor from_vector(const std::vector<double>& values, const Shape& shape, DType dtype);

  bool defined() const { return storage_ != nullptr; }
  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  const Strides& strides() const { return strides_; }
  int64_t offset() const { return offset_; }
  int64_t dim() const { return static_cast<int64_t>(shape_.size()); }
  int64_t size(int64_t axis) const;
  int64_t numel() const { return mg::numel(shape_); }
  bool is_contiguous() const;

  // Pointer to the first element (storage start + offset). Checks that T matches the dtype.
  template <typename T> T* data();
  template <typename T> const T* data() const;
  // The elements' raw bytes (numel() * dtype_size(), native byte order), for hashing, comparing and writing
  // files; the tensor must be contiguous (call contiguous() first), else mg::Error.
  std::span<const std::byte> bytes() const;

  Tensor contiguous() const;  // *this when already contiguous
  Tensor clone() const;       // always a new contiguous copy
  Tensor to(DType dtype) const;

  // Views and reshapes (PyTorch semantics; -1 in reshape is inferred).
  Tensor reshape(const Shape& shape) const;  // a view when contiguous, else a copy
  Tensor permute(const std::vector<int64_t>& order) const;
  Tensor transpose(int64_t a, int64_t b) const;
  Tensor slice(int64_t axis, int64_t start, int64_t end, int64_t step = 1) const;
  Tensor select(int64_t axis, int64_t index) const;  // drops the axis
  Tensor expand(const Shape& shape) const;           // broadcast view (stride 0)
  Tensor unsqueeze(int64_t axis) const;
  Tensor squeeze(int64_t axis) const;
  Tensor flatten(int64_t start = 0, int64_t end = -1) const;

  // Element access, converting to double (for tests, printing and small bookkeeping — not for hot loops).
  double item() const;  // requires numel() == 1
  double at(const std::vector<int64_t>& index) const;
  std::vector<double> to_vector() const;  // row-major

  // In-place writes; each bumps the storage version.
  Tensor& fill_(double value);
  Tensor& copy_(const Tensor& src);  // src broadcast to this shape, same dtype

  const std::shared_ptr<Storage>& storage() const { return storage_; }
  uint64_t version() const { return storage_ ? storage_->version() : 0; }
  void bump_version() const { if (storage_) storage_->bump_version(); }
  bool shares_storage_with(const Tensor& other) const { return storage_ == other.storage_; }

 private:
  Tensor(std::shared_ptr<Storage> storage, Shape shape, Strides strides, int64_t offset, DType dtype);
  Tensor view_with(Shape shape, Strides strides, int64_t offset) const;

  std::shared_ptr<Storage> storage_;
  Shape shape_;
  Strides strides_;
  int64_t offset_ = 0;
  DType dtype_ = DType::F32;
};

// "f32[2, 3]" — for error messages.
std::string describe(const Tensor& t);

template <typename T>
T* Tensor::data() {
  MG_CHECK(defined(), "data(): tensor is undefined");
  MG_CHECK(dtype_of<T>() == dtype_, "data(): tensor is ", dtype_name(dtype_), ", asked for ",
           dtype_name(dtype_of<T>()));
  return reinterpret_cast<T*>(storage_->data()) + offset_;
}

template <typename T>
const T* Tensor::data() const {
  return const_cast<Tensor*>(this)->data<T>();
}

template <typename T>
Tensor Tensor::from_vector(const std::vector<T>& values, const Shape& shape) {
  MG_CHECK(static_cast<int64_t>(values.size()) == mg::numel(shape), "from_vector: ", values.size(),
           " values do not fill shape ", to_string(shape));
  Tensor t = empty(shape, dtype_of<T>());
  std::copy(values.begin(), values.end(), t.data<T>());
  return t;
}

}  // namespace mg
