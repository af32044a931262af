// The table of every differentiable op (docs/ops.md), generated from the gradcheck registries of the
// autograd and nn layers: each op's forward kernel file, backward rule file, gradcheck cases, and whether
// double backward (create_graph) works through it. `mixgrad gradcheck --table` prints it;
// tests/nn/test_op_table.cpp keeps docs/ops.md equal to it and checks every claim in it.
#pragma once
#include <string>
#include <vector>

#include "autograd/op_cases.h"

namespace mg {

std::vector<OpCase> all_op_cases();  // autograd's, then nn's
std::vector<OpDoc> all_op_docs();

// The documented op a case belongs to: the longest op name equal to the case name or followed in it by "_";
// empty when none.
std::string op_of_case(const std::string& case_name, const std::vector<OpDoc>& docs);

std::string op_table_markdown();

}  // namespace mg
