// docs/ops.md's op table: generated from the gradcheck registries, and every claim in it checked — each case
// belongs to a documented op, each documented op is checked, the files it names exist, every op the sources
// record (make_result) is in it, and its double-backward column holds: gradgradcheck passes where it says
// yes and create_graph is a clear error where it says no.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "autograd/engine.h"
#include "autograd/functions.h"
#include "core/ops.h"
#include "nn/op_table.h"

using namespace mg;

namespace {

const std::filesystem::path kRoot = MIXGRAD_SOURCE_DIR;

std::string read_source(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The op names make_result calls give as string literals in one source file: a literal between "make_result("
// and the call's backward lambda ("["). (A name held in a variable, as batch_norm.cpp's, is not seen.)
std::set<std::string> recorded_op_names(const std::string& text) {
  std::set<std::string> names;
  const std::string call = "make_result(";
  for (std::size_t at = text.find(call); at != std::string::npos; at = text.find(call, at + 1)) {
    const std::size_t open = text.find('"', at), lambda = text.find('[', at);
    if (open == std::string::npos || open > lambda) continue;
    names.insert(text.substr(open + 1, text.find('"', open + 1) - open - 1));
  }
  return names;
}

}  // namespace

TEST_CASE("docs/ops.md holds the op table generated from the gradcheck registries", "[nn][gradcheck][docs]") {
  const std::string doc = read_source(kRoot / "docs/ops.md");
  const std::string table = op_table_markdown();
  REQUIRE(table.size() > 1000);
  INFO("regenerate it: ./build/mixgrad gradcheck --table, then paste it into docs/ops.md");
  CHECK(doc.find(table) != std::string::npos);
}

TEST_CASE("op table: every case has an op, every op is checked, every named file exists", "[nn][gradcheck][docs]") {
  const std::vector<OpDoc> docs = all_op_docs();
  std::set<std::string> with_cases;
  for (const OpCase& c : all_op_cases()) {
    const std::string op = op_of_case(c.name, docs);
    CAPTURE(c.name);
    CHECK(!op.empty());
    with_cases.insert(op);
  }
  std::set<std::string> seen;
  for (const OpDoc& d : docs) {
    CAPTURE(d.op);
    CHECK(seen.insert(d.op).second);  // documented once
    CHECK((with_cases.count(d.op) == 1) == d.checked_by.empty());  // cases of its own, or says what checks it
    for (const std::string& list : {d.kernel, d.backward}) {
      std::istringstream files(list);
      for (std::string file; std::getline(files, file, ',');) {
        file.erase(0, file.find_first_not_of(' '));
        if (file == "-") continue;
        CAPTURE(file);
        CHECK(std::filesystem::exists(kRoot / file));
      }
    }
  }
}

TEST_CASE("op table: every op the sources record with make_result is documented", "[nn][gradcheck][docs]") {
  std::set<std::string> documented;
  for (const OpDoc& d : all_op_docs()) documented.insert(d.op);
  int files = 0;
  for (const char* dir : {"autograd", "nn/functional"}) {
    for (const auto& entry : std::filesystem::directory_iterator(kRoot / dir)) {
      if (entry.path().extension() != ".cpp" || entry.path().filename() == "variable.cpp") continue;  // defines it
      ++files;
      for (const std::string& name : recorded_op_names(read_source(entry.path()))) {
        CAPTURE(entry.path().string(), name);
        CHECK(documented.count(name) == 1);
      }
    }
  }
  CHECK(files >= 7);
}

TEST_CASE("op table: its double-backward column holds for every case", "[nn][gradcheck][double_backward]") {
  for (const OpCase& c : all_op_cases()) {
    Generator gen(7, stream_id(std::hash<std::string>{}(c.name)));
    const std::vector<Tensor> inputs = c.make_inputs(gen);
    CAPTURE(c.name);
    if (c.double_backward) {
      const GradcheckResult r = gradgradcheck(c.name, c.fn, inputs, c.differentiable, c.options);
      CAPTURE(r.message, r.max_rel_err);
      CHECK(r.passed);
      CHECK(r.checked > 0);
    } else {
      std::vector<Variable> vars, wrt;
      for (std::size_t i = 0; i < inputs.size(); ++i) {
        const bool diff = c.differentiable.empty() || c.differentiable[i];
        vars.emplace_back(inputs[i], diff);
        if (diff) wrt.push_back(vars.back());
      }
      const Variable y = sum(c.fn(vars));
      CHECK_THROWS_WITH(grad({y}, wrt, {}, {.create_graph = true}), Catch::Matchers::Contains("double backward"));
    }
  }
}

TEST_CASE("gradgradcheck catches a backward rule that is not differentiable correctly", "[autograd][gradcheck]") {
  // x^2 whose backward 2 x g is recorded with x held constant: first-order right, its own gradient wrong.
  const DiffFn frozen_square = [](const std::vector<Variable>& v) {
    return make_result(ops::mul(v[0].data(), v[0].data()), {v[0]}, "frozen_square",
                       [x = v[0].data()](const Variable& g, const std::vector<bool>&) {
                         return std::vector<Variable>{g * Variable(ops::mul(x, 2.0))};
                       });
  };
  Generator gen(3, 0);
  const std::vector<Tensor> inputs = {uniform64({5}, gen)};
  CHECK(gradcheck("frozen_square", frozen_square, inputs).passed);
  const GradcheckResult r = gradgradcheck("frozen_square", frozen_square, inputs);
  CHECK(!r.passed);
  CHECK(r.max_rel_err > 0.1);
}
