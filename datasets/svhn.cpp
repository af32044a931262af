#include "datasets/svhn.h"

#include <matio.h>

#include <cmath>
#include <functional>
#include <memory>
#include <vector>

#include "core/error.h"
#include "datasets/mat5_check.h"

namespace mg::data {
namespace {

constexpr int64_t kSide = 32, kChannels = 3, kImageBytes = kSide * kSide * kChannels;

// matio reports problems through a log callback; the last message goes into our error.
thread_local std::string last_matio_message;
void capture_matio_log(int, char* message) { last_matio_message = message ? message : ""; }

void install_matio_log() {
  static const bool installed = [] {
    Mat_LogInitFunc("mixgrad", capture_matio_log);
    return true;
  }();
  (void)installed;
}

std::string matio_detail() {
  return last_matio_message.empty() ? "" : " (matio: " + last_matio_message + ")";
}

struct MatCloser {
  void operator()(mat_t* m) const { Mat_Close(m); }
};
struct VarFreer {
  void operator()(matvar_t* v) const { Mat_VarFree(v); }
};
using MatFile = std::unique_ptr<mat_t, MatCloser>;
using MatVar = std::unique_ptr<matvar_t, VarFreer>;

std::vector<uint64_t> dims_of(const matvar_t& v) {
  std::vector<uint64_t> d;
  for (int i = 0; i < v.rank; ++i) d.push_back(v.dims[i]);
  return d;
}

const char* kXExpected = "X, uint8 of shape 32×32×3×N";
std::string y_expected(size_t n) {
  return "y, numeric of shape " + std::to_string(n) + "×1 (N×1, as many labels as X has images)";
}

// X's layout from its class (mxCLASS / matio_classes, the same numbers) and dims; returns N.
size_t check_x_layout(const std::string& path, int class_id, bool logical, const std::vector<uint64_t>& dims) {
  MG_CHECK(class_id == MAT_C_UINT8 && !logical, path, ": variable 'X' is not uint8; expected ", kXExpected);
  MG_CHECK(dims.size() == 4 && dims[0] == kSide && dims[1] == kSide && dims[2] == kChannels && dims[3] >= 1,
           path, ": variable 'X' has shape ", mat5_dims_text(dims), "; expected ", kXExpected, " with N >= 1");
  const size_t n = dims[3];
  MG_CHECK(n <= (size_t(1) << 31) / kImageBytes, path, ": variable 'X' claims ", n, " images, more than any SVHN split");
  return n;
}

void check_y_layout(const std::string& path, size_t n, int class_id, const std::vector<uint64_t>& dims) {
  MG_CHECK(class_id >= MAT_C_DOUBLE && class_id <= MAT_C_UINT64, path,
           ": variable 'y' is not a numeric array; expected ", y_expected(n));
  MG_CHECK(dims.size() == 2 && dims[0] == n && dims[1] == 1, path, ": variable 'y' has shape ", mat5_dims_text(dims),
           "; expected ", y_expected(n));
}

// Reads variable `name`, after checking from its header alone that it is real, dense, of rank `rank` and
// holds `elements` values (so that matio never allocates what a corrupt size field claims).
MatVar read_var(mat_t* mat, const std::string& path, const char* name, const std::string& expected,
                const std::function<void(const matvar_t&)>& check_info) {
  last_matio_message.clear();
  MatVar info(Mat_VarReadInfo(mat, name));
  MG_CHECK(info, path, ": no variable '", name, "'", matio_detail(), "; expected ", expected);
  MG_CHECK(!info->isComplex && !info->isLogical && info->class_type != MAT_C_SPARSE, path, ": variable '", name,
           "' is complex, logical or sparse; expected ", expected);
  check_info(*info);
  last_matio_message.clear();
  MatVar var(Mat_VarRead(mat, name));
  MG_CHECK(var && var->data, path, ": cannot read the data of variable '", name, "'", matio_detail(),
           " (truncated or corrupt file?); expected ", expected);
  MG_CHECK(var->rank == info->rank && var->class_type == info->class_type, path, ": variable '", name,
           "' changed between its header and its data");
  for (int i = 0; i < var->rank; ++i) MG_CHECK(var->dims[i] == info->dims[i], path, ": variable '", name, "' changed shape");
  return var;
}

// The label of element i of y, whatever numeric class matio gives it; NaN for a class it cannot hold.
double label_value(const matvar_t& y, size_t i) {
  switch (y.class_type) {
    case MAT_C_DOUBLE: return static_cast<const double*>(y.data)[i];
    case MAT_C_SINGLE: return static_cast<const float*>(y.data)[i];
    case MAT_C_UINT8: return static_cast<const uint8_t*>(y.data)[i];
    case MAT_C_INT8: return static_cast<const int8_t*>(y.data)[i];
    case MAT_C_UINT16: return static_cast<const uint16_t*>(y.data)[i];
    case MAT_C_INT16: return static_cast<const int16_t*>(y.data)[i];
    case MAT_C_UINT32: return static_cast<const uint32_t*>(y.data)[i];
    case MAT_C_INT32: return static_cast<const int32_t*>(y.data)[i];
    case MAT_C_UINT64: return static_cast<double>(static_cast<const uint64_t*>(y.data)[i]);
    case MAT_C_INT64: return static_cast<double>(static_cast<const int64_t*>(y.data)[i]);
    default: return NAN;
  }
}

size_t element_bytes(enum matio_classes c) {
  switch (c) {
    case MAT_C_DOUBLE: case MAT_C_INT64: case MAT_C_UINT64: return 8;
    case MAT_C_SINGLE: case MAT_C_INT32: case MAT_C_UINT32: return 4;
    case MAT_C_INT16: case MAT_C_UINT16: return 2;
    case MAT_C_INT8: case MAT_C_UINT8: return 1;
    default: return 0;
  }
}

Dataset svhn_empty(const std::string& name) {
  Dataset ds;
  ds.name = name;
  ds.channels = kChannels;
  ds.height = ds.width = kSide;
  for (int d = 0; d < 10; ++d) ds.classes.push_back(std::to_string(d));
  ds.mean = {0.4377f, 0.4438f, 0.4728f};  // SVHN train's per-channel statistics (the usual recipe's values)
  ds.std = {0.1980f, 0.2010f, 0.1970f};
  return ds;
}

void append_svhn_file(Dataset& ds, const std::string& path) {
  install_matio_log();
  // Every variable's header is checked against the file's bytes (so that matio never allocates what a corrupt
  // size field claims), then X's and y's against SVHN's layout, before matio reads anything.
  const std::vector<Mat5Variable> vars = check_mat5_file(path);
  size_t declared_n = 0;
  bool have_x = false;
  for (const Mat5Variable& v : vars)
    if (v.name == "X") {
      declared_n = check_x_layout(path, v.class_id, v.logical, v.dims);
      have_x = true;
    }
  for (const Mat5Variable& v : vars)
    if (v.name == "y" && have_x) check_y_layout(path, declared_n, v.class_id, v.dims);
  last_matio_message.clear();
  MatFile mat(Mat_Open(path.c_str(), MAT_ACC_RDONLY));
  MG_CHECK(mat, path, ": matio cannot open it as a MAT file", matio_detail());
  MG_CHECK(Mat_GetVersion(mat.get()) == MAT_FT_MAT5, path, ": expected a MATLAB v5 file");

  size_t n = 0;
  const MatVar x = read_var(mat.get(), path, "X", kXExpected, [&](const matvar_t& v) {
    n = check_x_layout(path, v.class_type, v.isLogical, dims_of(v));
  });
  MG_CHECK(x->nbytes >= n * kImageBytes, path, ": variable 'X' holds ", x->nbytes, " bytes, expected ", n * kImageBytes);

  const MatVar y = read_var(mat.get(), path, "y", y_expected(n), [&](const matvar_t& v) {
    check_y_layout(path, n, v.class_type, dims_of(v));
  });
  MG_CHECK(y->nbytes >= n * element_bytes(y->class_type), path, ": variable 'y' holds ", y->nbytes, " bytes, expected ",
           n * element_bytes(y->class_type));

  const size_t first = ds.labels.size();
  ds.labels.resize(first + n);
  for (size_t i = 0; i < n; ++i) {
    const double v = label_value(*y, i);
    MG_CHECK(v >= 1 && v <= 10 && v == std::floor(v), path, ": label ", v, " of image ", i, " (y(", i + 1,
             ")) is outside 1..10; expected whole numbers 1..10, 10 for the digit 0");
    ds.labels[first + i] = static_cast<int64_t>(v) % 10;
  }
  // X(row, column, channel, image), column-major, becomes image-major C×H×W.
  const uint8_t* src = static_cast<const uint8_t*>(x->data);
  const size_t base = ds.images.size();
  ds.images.resize(base + n * kImageBytes);
  uint8_t* dst = ds.images.data() + base;
  for (size_t i = 0; i < n; ++i)
    for (int64_t c = 0; c < kChannels; ++c)
      for (int64_t col = 0; col < kSide; ++col)
        for (int64_t row = 0; row < kSide; ++row)
          dst[i * kImageBytes + c * kSide * kSide + row * kSide + col] =
              src[i * kImageBytes + c * kSide * kSide + col * kSide + row];
  ds.files.push_back(path);
}

}  // namespace

Dataset load_svhn_file(const std::string& path, const std::string& name) {
  Dataset ds = svhn_empty(name);
  append_svhn_file(ds, path);
  validate(ds);
  return ds;
}

Splits load_svhn(const std::string& dir, bool with_extra) {
  Splits s;
  s.train = load_svhn_file(dir + "/" + kSvhnTrainFile, "svhn/train");
  if (with_extra) append_svhn_file(s.train, dir + "/" + kSvhnExtraFile);
  validate(s.train);
  s.test = load_svhn_file(dir + "/" + kSvhnTestFile, "svhn/test");
  return s;
}

}  // namespace mg::data
