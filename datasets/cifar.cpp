#include "datasets/cifar.h"

#include <filesystem>

#include "core/error.h"
#include "datasets/file_io.h"

namespace mg::data {

int64_t cifar_record_bytes(CifarKind kind) { return (kind == CifarKind::Cifar10 ? 1 : 2) + kCifarImageBytes; }

std::vector<std::string> cifar_train_files(CifarKind kind) {
  if (kind == CifarKind::Cifar100) return {"train.bin"};
  return {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"};
}

std::string cifar_test_file(CifarKind kind) { return kind == CifarKind::Cifar10 ? "test_batch.bin" : "test.bin"; }

std::vector<std::string> cifar10_classes() {
  return {"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"};
}

std::vector<std::string> cifar100_classes() {
  return {"apple", "aquarium_fish", "baby", "bear", "beaver", "bed", "bee", "beetle", "bicycle", "bottle",
          "bowl", "boy", "bridge", "bus", "butterfly", "camel", "can", "castle", "caterpillar", "cattle",
          "chair", "chimpanzee", "clock", "cloud", "cockroach", "couch", "crab", "crocodile", "cup", "dinosaur",
          "dolphin", "elephant", "flatfish", "forest", "fox", "girl", "hamster", "house", "kangaroo", "keyboard",
          "lamp", "lawn_mower", "leopard", "lion", "lizard", "lobster", "man", "maple_tree", "motorcycle",
          "mountain", "mouse", "mushroom", "oak_tree", "orange", "orchid", "otter", "palm_tree", "pear",
          "pickup_truck", "pine_tree", "plain", "plate", "poppy", "porcupine", "possum", "rabbit", "raccoon",
          "ray", "road", "rocket", "rose", "sea", "seal", "shark", "shrew", "skunk", "skyscraper", "snail",
          "snake", "spider", "squirrel", "streetcar", "sunflower", "sweet_pepper", "table", "tank", "telephone",
          "television", "tiger", "tractor", "train", "trout", "tulip", "turtle", "wardrobe", "whale",
          "willow_tree", "wolf", "woman", "worm"};
}

namespace {

// An empty CIFAR dataset: shape, classes and the usual normalisation.
Dataset cifar_empty(CifarKind kind, const std::string& name) {
  Dataset ds;
  ds.name = name;
  ds.channels = 3;
  ds.height = ds.width = 32;
  ds.classes = kind == CifarKind::Cifar10 ? cifar10_classes() : cifar100_classes();
  if (kind == CifarKind::Cifar10) {
    // Normalisation of the mixup-cifar10 reference recipe (facebookresearch/mixup-cifar10, train.py).
    ds.mean = {0.4914f, 0.4822f, 0.4465f};
    ds.std = {0.2023f, 0.1994f, 0.2010f};
  } else {
    ds.mean = {0.5071f, 0.4865f, 0.4409f};
    ds.std = {0.2673f, 0.2564f, 0.2762f};
  }
  return ds;
}

// Checks the records of one file and appends its images and labels to ds.
void append_cifar(Dataset& ds, const uint8_t* data, size_t size, CifarKind kind, const std::string& name) {
  const int64_t record = cifar_record_bytes(kind);
  const char* format = kind == CifarKind::Cifar10 ? "CIFAR-10" : "CIFAR-100";
  MG_CHECK(size % record == 0, name, ": size ", size, " bytes is not a whole number of ", format, " records of ",
           record, " bytes (", size / record, " records and ", size % record, " bytes left over)");
  MG_CHECK(size > 0, name, ": empty file, expected ", format, " records of ", record, " bytes");
  const int64_t n = static_cast<int64_t>(size) / record;
  const int64_t label_bytes = record - kCifarImageBytes;
  for (int64_t i = 0; i < n; ++i) {
    const uint8_t* rec = data + i * record;
    if (kind == CifarKind::Cifar100)
      MG_CHECK(rec[0] < 20, name, ": record ", i, " has coarse label ", int(rec[0]), ", expected 0..19");
    const int64_t label = rec[label_bytes - 1];
    MG_CHECK(label < ds.num_classes(), name, ": record ", i, " has label ", label, ", expected 0..",
             ds.num_classes() - 1);
  }
  ds.labels.reserve(ds.labels.size() + n);
  ds.images.reserve(ds.images.size() + n * kCifarImageBytes);
  for (int64_t i = 0; i < n; ++i) {
    const uint8_t* rec = data + i * record;
    ds.labels.push_back(rec[label_bytes - 1]);
    ds.images.insert(ds.images.end(), rec + label_bytes, rec + record);
  }
  ds.files.push_back(name);
}

}  // namespace

Dataset parse_cifar(const uint8_t* data, size_t size, CifarKind kind, const std::string& name) {
  Dataset ds = cifar_empty(kind, name);
  append_cifar(ds, data, size, kind, name);
  return ds;
}

Dataset load_cifar_file(const std::string& path, CifarKind kind) {
  const Bytes bytes = read_file(path);
  return parse_cifar(bytes.data(), bytes.size(), kind, path);
}

Splits load_cifar(const std::string& dir, CifarKind kind) {
  const std::string tag = kind == CifarKind::Cifar10 ? "cifar10" : "cifar100";
  Splits s;
  s.train = cifar_empty(kind, tag + "/train");
  const std::vector<std::string> files = cifar_train_files(kind);
  size_t total = 0;  // reserve the joined buffer once (a missing file is reported below by read_file)
  bool sized = true;
  for (const std::string& file : files) {
    std::error_code ec;
    const auto bytes = std::filesystem::file_size(dir + "/" + file, ec);
    sized = sized && !ec;
    if (!ec) total += bytes / cifar_record_bytes(kind);
  }
  if (sized) s.train.images.reserve(total * kCifarImageBytes);
  for (const std::string& file : files) {
    const std::string path = dir + "/" + file;
    const Bytes bytes = read_file(path);
    append_cifar(s.train, bytes.data(), bytes.size(), kind, path);
  }
  s.test = load_cifar_file(dir + "/" + cifar_test_file(kind), kind);
  s.test.name = tag + "/test";
  return s;
}

}  // namespace mg::data
