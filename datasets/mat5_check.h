// A MATLAB v5 .mat file checked from its bytes alone, before matio reads it: matio allocates whatever a
// variable's header claims (its name length, its dimensions times the element size), so a crafted header of a
// few hundred bytes can make it ask for gigabytes. check_mat5_file walks the top-level data elements and each
// variable's header (array flags, dimensions, name, the tag of its real data) and refuses anything that does
// not fit: every sub-element inside its variable, the data's byte count equal to the declared element count
// times its stored type's size, a compressed variable no larger than deflate can expand its bytes to. Only
// dense, real, numeric variables pass (what an SVHN file holds). Every error names the file and, once it is
// known, the variable.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace mg::data {

struct Mat5Variable {
  std::string name;
  int class_id = 0;           // mxCLASS: 6 double, 7 single, 8 int8, 9 uint8, ... 15 uint64
  bool logical = false;
  std::vector<uint64_t> dims;
  uint64_t numel = 0;         // the product of dims
  uint64_t data_bytes = 0;    // the real part's byte count as stored
};

// The variables of `path`, in file order; throws mg::Error on anything matio could not read safely.
std::vector<Mat5Variable> check_mat5_file(const std::string& path);

// "32×32×3×2"
std::string mat5_dims_text(const std::vector<uint64_t>& dims);

}  // namespace mg::data
