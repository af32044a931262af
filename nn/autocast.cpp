#include "nn/autocast.h"

#include "core/error.h"

namespace mg::nn {
namespace {

thread_local Precision t_precision = Precision::f32;

}  // namespace

Precision parse_precision(const std::string& name) {
  if (name == "f32") return Precision::f32;
  if (name == "bf16") return Precision::bf16;
  MG_FAIL("precision must be f32 or bf16, got '", name, "'");
}

const char* name(Precision precision) { return precision == Precision::bf16 ? "bf16" : "f32"; }

Precision autocast_precision() { return t_precision; }

Autocast::Autocast(Precision precision) : saved_(t_precision) { t_precision = precision; }

Autocast::~Autocast() { t_precision = saved_; }

}  // namespace mg::nn
