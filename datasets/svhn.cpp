#include "datasets/svhn.h"

#include <matio.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>
#include <fstream>
#include <memory>

#include "core/error.h"

namespace mg::data {
namespace {

constexpr size_t kMatHeaderBytes = 128;
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

// What must hold before matio opens the file: a regular file with the 128-byte MAT v5 header (text starting
// "MATLAB 5.0 MAT-file", version 0x0100, endian mark "IM" or "MI") and room for at least one variable.
void check_header(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  MG_CHECK(fs::is_regular_file(path, ec), path, ": not a readable file; expected an SVHN MATLAB v5 .mat file");
  const uint64_t size = fs::file_size(path, ec);
  MG_CHECK(!ec && size >= kMatHeaderBytes + 8, path, ": ", ec ? 0 : size, " bytes is too short for a MATLAB v5 "
           "file (a 128-byte header and at least one 8-byte data element tag)");
  unsigned char header[kMatHeaderBytes];
  std::ifstream in(path, std::ios::binary);
  MG_CHECK(in.read(reinterpret_cast<char*>(header), kMatHeaderBytes), path, ": cannot read its header");
  const bool text = std::memcmp(header, "MATLAB 5.0 MAT-file", 19) == 0;
  const bool little = header[126] == 'I' && header[127] == 'M', big = header[126] == 'M' && header[127] == 'I';
  const int version = little ? header[124] | header[125] << 8 : header[124] << 8 | header[125];
  MG_CHECK(text && (little || big), path, ": not a MATLAB v5 .mat file (expected a header starting with "
           "\"MATLAB 5.0 MAT-file\" and the endian mark IM or MI at bytes 126-127)");
  MG_CHECK(version == 0x0100, path, ": MAT-file version 0x", std::hex, version, std::dec, ", expected 0x0100 "
           "(MATLAB v5, as the official SVHN files; v7.3/HDF5 files are not read)");

  // The top-level data elements must tile the rest of the file: each 8-byte tag (type, byte count) is followed
  // by its bytes (padded to 8 unless compressed). A file cut short, or a corrupt count, stops here.
  auto u32 = [&](const unsigned char* b) {
    return little ? uint32_t(b[0]) | uint32_t(b[1]) << 8 | uint32_t(b[2]) << 16 | uint32_t(b[3]) << 24
                  : uint32_t(b[3]) | uint32_t(b[2]) << 8 | uint32_t(b[1]) << 16 | uint32_t(b[0]) << 24;
  };
  constexpr uint32_t kMiMatrix = 14, kMiCompressed = 15;
  uint64_t at = kMatHeaderBytes;
  int elements = 0;
  while (at < size) {
    unsigned char tag[8];
    MG_CHECK(size - at >= 8 && in.seekg(static_cast<std::streamoff>(at)) && in.read(reinterpret_cast<char*>(tag), 8),
             path, ": truncated: ", size - at, " stray bytes at offset ", at, " where a data element's 8-byte tag "
             "should start");
    const uint32_t type = u32(tag), bytes = u32(tag + 4);
    MG_CHECK(type == kMiMatrix || type == kMiCompressed, path, ": data element ", elements, " at offset ", at,
             " has type ", type, "; expected a variable (miMATRIX 14 or miCOMPRESSED 15)");
    const uint64_t padded = type == kMiCompressed ? bytes : (uint64_t(bytes) + 7) / 8 * 8;
    MG_CHECK(padded <= size - at - 8, path, ": truncated: data element ", elements, " at offset ", at, " declares ",
             bytes, " bytes but only ", size - at - 8, " follow; expected the whole file (",
             at + 8 + padded, " bytes or more)");
    at += 8 + padded;
    ++elements;
  }
}

struct MatCloser {
  void operator()(mat_t* m) const { Mat_Close(m); }
};
struct VarFreer {
  void operator()(matvar_t* v) const { Mat_VarFree(v); }
};
using MatFile = std::unique_ptr<mat_t, MatCloser>;
using MatVar = std::unique_ptr<matvar_t, VarFreer>;

std::string dims_text(const matvar_t& v) {
  std::string s;
  for (int i = 0; i < v.rank; ++i) s += (i ? "×" : "") + std::to_string(v.dims[i]);
  return s.empty() ? "(none)" : s;
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
  check_header(path);
  last_matio_message.clear();
  MatFile mat(Mat_Open(path.c_str(), MAT_ACC_RDONLY));
  MG_CHECK(mat, path, ": matio cannot open it as a MAT file", matio_detail());
  MG_CHECK(Mat_GetVersion(mat.get()) == MAT_FT_MAT5, path, ": expected a MATLAB v5 file");

  const char* x_expected = "X, uint8 of shape 32×32×3×N";
  size_t n = 0;
  const MatVar x = read_var(mat.get(), path, "X", x_expected, [&](const matvar_t& v) {
    MG_CHECK(v.class_type == MAT_C_UINT8, path, ": variable 'X' is not uint8; expected ", x_expected);
    MG_CHECK(v.rank == 4 && v.dims[0] == kSide && v.dims[1] == kSide && v.dims[2] == kChannels && v.dims[3] >= 1,
             path, ": variable 'X' has shape ", dims_text(v), "; expected ", x_expected, " with N >= 1");
    n = v.dims[3];
    MG_CHECK(n <= (size_t(1) << 31) / kImageBytes, path, ": variable 'X' claims ", n, " images, more than any SVHN split");
  });
  MG_CHECK(x->nbytes >= n * kImageBytes, path, ": variable 'X' holds ", x->nbytes, " bytes, expected ", n * kImageBytes);

  const std::string y_expected = "y, numeric of shape " + std::to_string(n) + "×1 (N×1, as many labels as X has images)";
  const MatVar y = read_var(mat.get(), path, "y", y_expected, [&](const matvar_t& v) {
    MG_CHECK(element_bytes(v.class_type) > 0, path, ": variable 'y' is not a numeric array; expected ", y_expected);
    MG_CHECK(v.rank == 2 && v.dims[0] == n && v.dims[1] == 1, path, ": variable 'y' has shape ", dims_text(v),
             "; expected ", y_expected);
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
