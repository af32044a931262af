#include "nn/op_table.h"

#include "nn/op_cases.h"

namespace mg {

std::vector<OpCase> all_op_cases() {
  std::vector<OpCase> cases = core_op_cases();
  for (OpCase& c : nn_op_cases()) cases.push_back(std::move(c));
  return cases;
}

std::vector<OpDoc> all_op_docs() {
  std::vector<OpDoc> docs = core_op_docs();
  for (OpDoc& d : nn_op_docs()) docs.push_back(std::move(d));
  return docs;
}

std::string op_of_case(const std::string& case_name, const std::vector<OpDoc>& docs) {
  std::string best;
  for (const OpDoc& d : docs) {
    const bool named = case_name == d.op || case_name.rfind(d.op + "_", 0) == 0;
    if (named && d.op.size() > best.size()) best = d.op;
  }
  return best;
}

namespace {

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

}  // namespace

std::string op_table_markdown() {
  const std::vector<OpDoc> docs = all_op_docs();
  const std::vector<OpCase> cases = all_op_cases();
  std::string out =
      "| op | forward kernel | backward rule | gradcheck cases (f64) | double backward |\n"
      "| --- | --- | --- | --- | --- |\n";
  for (const OpDoc& d : docs) {
    std::vector<std::string> with, without;
    for (const OpCase& c : cases)
      if (op_of_case(c.name, docs) == d.op) (c.double_backward ? with : without).push_back(c.name);
    std::string checks, second;
    if (with.empty() && without.empty()) {
      checks = "none of its own: " + d.checked_by;
      second = "-";
    } else {
      std::vector<std::string> all = with;
      all.insert(all.end(), without.begin(), without.end());
      checks = joined(all);
      second = without.empty() ? "yes"
               : with.empty()  ? "no (a clear error)"
                               : "only " + joined(with) + "; a clear error in " + joined(without);
    }
    out += "| `" + d.op + "` | " + d.kernel + " | " + d.backward + " | " + checks + " | " + second + " |\n";
  }
  return out;
}

}  // namespace mg
