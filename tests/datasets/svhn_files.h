// Small SVHN .mat files in the official layout (X uint8 32×32×3×N, y N×1, 10 for the digit 0), written by
// python3-scipy's savemat, for the SVHN tests and the svhn preset's test.
#pragma once
#include <string>

#include "tests/nn/test_module_python.h"

namespace mg::data::test {

// X(row, col, ch, n) = (7 row + 3 col + 50 ch + 11 n) mod 256; labels y(n) = labels[n].
inline const char* kSvhnPixelFormula = "(7 * r + 3 * c + 50 * ch + 11 * n) % 256";

// Writes `path` with `labels` (a Python list expression) and options: x_name/y_name the variable names,
// x_expr replacing X, y_dtype, compress (scipy's do_compression).
inline void write_svhn_mat(const std::string& path, const std::string& labels, const std::string& y_dtype = "uint8",
                           bool compress = true, const std::string& x_name = "X", const std::string& y_name = "y",
                           const std::string& x_expr = "") {
  std::string script =
      "import numpy as np\nfrom scipy.io import savemat\n"
      "labels = " + labels + "\nn = len(labels)\n"
      "r, c, ch, k = np.meshgrid(np.arange(32), np.arange(32), np.arange(3), np.arange(n), indexing='ij')\n"
      "X = ((7 * r + 3 * c + 50 * ch + 11 * k) % 256).astype(np.uint8)\n";
  if (!x_expr.empty()) script += "X = " + x_expr + "\n";
  script += "y = np.array(labels, dtype=np.float64).reshape(-1, 1).astype(np." + y_dtype + ")\n"
            "savemat('" + path + "', {'" + x_name + "': X, '" + y_name + "': y}, do_compression=" +
            (compress ? "True" : "False") + ")\n";
  mg::test::run_python(script);
}

// train_32x32.mat (10 images, labels 1..10 with 10 twice) and test_32x32.mat (3 images, y as double).
inline void write_svhn_dir(const std::string& dir) {
  write_svhn_mat(dir + "/train_32x32.mat", "[1, 2, 3, 4, 5, 6, 7, 8, 10, 10]");
  write_svhn_mat(dir + "/test_32x32.mat", "[10, 3, 3]", "float64", false);
}

}  // namespace mg::data::test
