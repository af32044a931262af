// Scalar types: float32 for training, float64 for audits and gradcheck.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/error.h"

namespace mg {

enum class DType : uint8_t { F32, F64 };

inline std::size_t dtype_size(DType dt) { return dt == DType::F32 ? 4 : 8; }
inline std::string_view dtype_name(DType dt) { return dt == DType::F32 ? "f32" : "f64"; }

template <typename T> constexpr DType dtype_of();
template <> constexpr DType dtype_of<float>() { return DType::F32; }
template <> constexpr DType dtype_of<double>() { return DType::F64; }

// visit_dtype(dt, [&]<typename T>() { ... }) runs the body with T = float or double.
template <typename Fn>
decltype(auto) visit_dtype(DType dt, Fn&& fn) {
  if (dt == DType::F32) return fn.template operator()<float>();
  return fn.template operator()<double>();
}

}  // namespace mg
