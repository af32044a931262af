// gradcheck cases for the nn layer's differentiable ops (conv2d, batch norm, pooling, linear, losses,
// dropout). `mixgrad gradcheck` runs these after autograd's core_op_cases().
#pragma once
#include <vector>

#include "autograd/op_cases.h"

namespace mg {

std::vector<OpCase> nn_op_cases();
std::vector<OpDoc> nn_op_docs();

}  // namespace mg
