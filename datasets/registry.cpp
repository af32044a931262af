#include "datasets/registry.h"

#include <filesystem>

#include "core/error.h"
#include "datasets/cifar.h"
#include "datasets/idx.h"
#include "datasets/image_folder.h"
#include "datasets/svhn.h"

namespace mg::data {

namespace fs = std::filesystem;

namespace {

struct Source {
  std::string title;               // "CIFAR-10 (binary version)"
  std::string subdir;              // folder the official archive unpacks to
  std::vector<std::string> files;  // required files, relative to the data folder
  bool gz_ok = false;              // each file may also be file.gz
  std::string download;            // how to get it
};

Source source_of(const std::string& name) {
  const std::vector<std::string> idx = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                        "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};
  if (name == "cifar10") {
    std::vector<std::string> files = cifar_train_files(CifarKind::Cifar10);
    files.push_back(cifar_test_file(CifarKind::Cifar10));
    return {"CIFAR-10 (binary version)", "cifar-10-batches-bin", files, false,
            "download https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz (md5 "
            "c32a1d4ab5d03f1284b67883e8d87530) and unpack it, or run scripts/fetch_cifar.sh cifar10 DEST"};
  }
  if (name == "cifar100")
    return {"CIFAR-100 (binary version)", "cifar-100-binary", {"train.bin", "test.bin"}, false,
            "download https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz (md5 "
            "03b5dce01913d631647c71ecec9e9cb8) and unpack it, or run scripts/fetch_cifar.sh cifar100 DEST"};
  if (name == "fashion-mnist")
    return {"Fashion-MNIST (IDX, plain or .gz)", "", idx, true,
            "install Debian's dataset-fashion-mnist package (files in /usr/share/datasets/fashion-mnist) or "
            "download them from https://github.com/zalandoresearch/fashion-mnist"};
  if (name == "mnist")
    return {"MNIST (IDX, plain or .gz)", "", idx, true,
            "download them from https://ossci-datasets.s3.amazonaws.com/mnist/ (mirror of yann.lecun.com/exdb/mnist)"};
  if (name == "kmnist")
    return {"KMNIST (IDX, plain or .gz)", "", idx, true,
            "download them from http://codh.rois.ac.jp/kmnist/dataset/kmnist/ (train-images-idx3-ubyte.gz, ...)"};
  if (name == "svhn")
    return {"SVHN cropped digits (MATLAB v5)", "", {kSvhnTrainFile, kSvhnTestFile}, false,
            "download http://ufldl.stanford.edu/housenumbers/train_32x32.mat and test_32x32.mat, or run "
            "scripts/fetch_cifar.sh svhn DEST"};
  MG_FAIL("unknown dataset '", name, "'; expected cifar10, cifar100, fashion-mnist, mnist, kmnist, svhn or image-folder");
}

bool has_file(const fs::path& dir, const std::string& file, bool gz_ok) {
  return fs::is_regular_file(dir / file) || (gz_ok && fs::is_regular_file(dir / (file + ".gz")));
}

// The folder that holds the files (dir itself or dir/subdir); throws the full explanation when neither does.
std::string locate(const std::string& name, const std::string& dir, const Source& src) {
  auto missing_in = [&](const fs::path& d) {
    std::vector<std::string> missing;
    for (const std::string& f : src.files)
      if (!has_file(d, f, src.gz_ok)) missing.push_back((d / f).string() + (src.gz_ok ? "[.gz]" : ""));
    return missing;
  };
  std::string list;
  for (size_t i = 0; i < src.files.size(); ++i) list += (i ? ", " : "") + src.files[i] + (src.gz_ok ? "[.gz]" : "");
  const std::string expected = "; expected the " + src.title + " files " + list + "; to get them, " + src.download;
  MG_CHECK(!dir.empty(), name, ": no data directory given (--data DIR)", expected);
  MG_CHECK(fs::exists(dir), name, ": data directory ", dir, " does not exist", expected);
  MG_CHECK(fs::is_directory(dir), name, ": ", dir, " is not a directory", expected);
  std::vector<std::string> missing = missing_in(dir);
  if (missing.empty()) return dir;
  if (!src.subdir.empty() && missing_in(fs::path(dir) / src.subdir).empty()) return (fs::path(dir) / src.subdir).string();
  std::string names;
  for (size_t i = 0; i < missing.size(); ++i) names += (i ? ", " : "") + missing[i];
  MG_FAIL(name, ": missing file", missing.size() > 1 ? "s " : " ", names, " in data directory ", dir,
          src.subdir.empty() ? "" : " (also looked in " + (fs::path(dir) / src.subdir).string() + ")", expected);
}

}  // namespace

const std::vector<std::string>& dataset_names() {
  static const std::vector<std::string> names = {"cifar10", "cifar100", "fashion-mnist", "mnist", "kmnist",
                                                 "svhn", "image-folder"};
  return names;
}

std::string default_data_dir(const std::string& name) {
  return name == "fashion-mnist" ? "/usr/share/datasets/fashion-mnist" : "";
}

Splits load_dataset(const std::string& name, const std::string& dir) {
  if (name == "image-folder") {
    MG_CHECK(!dir.empty(), "image-folder: no data directory given (--data DIR)");
    return load_image_folder_splits(dir);
  }
  const Source src = source_of(name);
  const std::string where = locate(name, dir, src);
  if (name == "cifar10") return load_cifar(where, CifarKind::Cifar10);
  if (name == "cifar100") return load_cifar(where, CifarKind::Cifar100);
  if (name == "fashion-mnist") return load_idx(where, IdxKind::FashionMnist);
  if (name == "mnist") return load_idx(where, IdxKind::Mnist);
  if (name == "svhn") return load_svhn(where);
  return load_idx(where, IdxKind::Kmnist);
}

}  // namespace mg::data
