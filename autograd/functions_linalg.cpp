// matmul: forward kernel call, then the backward rule (batch broadcasting undone by sum_to_shape).
#include "autograd/functions.h"
#include "core/ops.h"

namespace mg {

Variable matmul(const Variable& a, const Variable& b) {
  // 1-d operands become matrices here, so the rule below only sees (..., M, K) @ (..., K, N).
  if (a.dim() == 1) return squeeze(matmul(unsqueeze(a, 0), b), -2);
  if (b.dim() == 1) return squeeze(matmul(a, unsqueeze(b, 1)), -1);
  SavedVariable sa(a, "matmul"), sb(b, "matmul");
  return make_result(ops::matmul(a.data(), b.data()), {a, b}, "matmul",
                     [sa, sb](const Variable& g, const std::vector<bool>& need) -> std::vector<Variable> {
                       const Variable &x = sa.unpack(), &y = sb.unpack();
                       return {need[0] ? sum_to_shape(matmul(g, transpose(y, -1, -2)), x.shape()) : Variable(),
                               need[1] ? sum_to_shape(matmul(transpose(x, -1, -2), g), y.shape()) : Variable()};
                     });
}

}  // namespace mg
