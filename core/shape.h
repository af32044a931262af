// Shapes and strides (in elements, row-major), broadcasting rules, and their printing for error messages.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace mg {

using Shape = std::vector<int64_t>;
using Strides = std::vector<int64_t>;

int64_t numel(const Shape& shape);
Strides contiguous_strides(const Shape& shape);
std::string to_string(const Shape& shape);  // "[2, 3, 4]"

// NumPy/PyTorch broadcasting: align from the right, sizes must match or be 1. Throws naming both shapes.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op = "broadcast");

// Wraps a possibly negative axis into [0, ndim); throws naming the axis and ndim when out of range.
int64_t normalize_axis(int64_t axis, int64_t ndim);

// Sorted, de-duplicated, normalized axes; an empty list means "all axes".
std::vector<int64_t> normalize_axes(const std::vector<int64_t>& axes, int64_t ndim);

}  // namespace mg
