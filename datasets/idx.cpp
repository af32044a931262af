#include "datasets/idx.h"

#include <filesystem>

#include "core/error.h"

namespace mg::data {

namespace {

const char* idx_type_name(uint8_t type) {
  switch (type) {
    case 0x08: return "unsigned byte";
    case 0x09: return "signed byte";
    case 0x0B: return "int16";
    case 0x0C: return "int32";
    case 0x0D: return "float32";
    case 0x0E: return "float64";
    default: return nullptr;
  }
}

std::string dims_string(const std::vector<int64_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

}  // namespace

IdxArray parse_idx(const uint8_t* data, size_t size, const std::string& name) {
  MG_CHECK(size >= 4, name, ": ", size, " bytes is too short for an IDX header (4-byte magic number)");
  const uint32_t magic = uint32_t(data[0]) << 24 | uint32_t(data[1]) << 16 | uint32_t(data[2]) << 8 | data[3];
  const char* type = idx_type_name(data[2]);
  MG_CHECK(data[0] == 0 && data[1] == 0 && type != nullptr && data[3] >= 1, name, ": wrong IDX magic number 0x",
           std::hex, magic, std::dec, ", expected 0x00000803 (images) or 0x00000801 (labels): not an IDX file");
  MG_CHECK(data[2] == 0x08, name, ": IDX element type 0x0", std::hex, int(data[2]), std::dec, " (", type,
           ") is not supported, expected 0x08 (unsigned byte)");
  const size_t ndims = data[3];
  const size_t header = 4 + 4 * ndims;
  MG_CHECK(size >= header, name, ": ", size, " bytes is too short for an IDX header with ", ndims,
           " dimensions (", header, " bytes)");
  IdxArray a;
  uint64_t count = 1;
  bool too_big = false;
  for (size_t d = 0; d < ndims; ++d) {
    const uint8_t* p = data + 4 + 4 * d;
    const uint32_t n = uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
    a.dims.push_back(n);
    if (count > (uint64_t(1) << 62) / (uint64_t(n) + 1)) too_big = true;
    count *= n;
  }
  MG_CHECK(!too_big && header + count == size, name, ": IDX dimensions ", dims_string(a.dims), " need ",
           too_big ? std::string("more than 2^62") : std::to_string(header + count), " bytes (", header,
           " header + data) but the file has ", size, " bytes");
  a.values.assign(data + header, data + size);
  return a;
}

IdxArray read_idx(const std::string& path) {
  const Bytes bytes = read_file(path);
  if (!is_gzip(bytes)) return parse_idx(bytes.data(), bytes.size(), path);
  const Bytes inflated = gunzip(bytes, path);
  return parse_idx(inflated.data(), inflated.size(), path + " (inflated)");
}

std::vector<std::string> idx_classes(IdxKind kind) {
  switch (kind) {
    case IdxKind::Mnist: return {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
    case IdxKind::FashionMnist:
      return {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};
    case IdxKind::Kmnist: return {"o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"};  // romanised kana
  }
  return {};
}

Dataset idx_dataset(const IdxArray& images, const IdxArray& labels, const std::string& images_name,
                    const std::string& labels_name, IdxKind kind) {
  MG_CHECK(images.dims.size() == 3, images_name, ": IDX images must have 3 dimensions (N, H, W), got ",
           dims_string(images.dims));
  MG_CHECK(labels.dims.size() == 1, labels_name, ": IDX labels must have 1 dimension (N), got ",
           dims_string(labels.dims));
  MG_CHECK(images.dims[0] == labels.dims[0], images_name, " holds ", images.dims[0], " images but ", labels_name,
           " holds ", labels.dims[0], " labels");
  MG_CHECK(images.dims[0] > 0, images_name, ": holds no images (IDX dimensions ", dims_string(images.dims), ")");
  MG_CHECK(images.dims[1] > 0 && images.dims[2] > 0 && images.dims[1] * images.dims[2] <= (int64_t(1) << 26),
           images_name, ": image size ", images.dims[1], "x", images.dims[2], " must be positive and at most 2^26 pixels");
  Dataset ds;
  ds.name = images_name;
  ds.files = {images_name, labels_name};
  ds.channels = 1;
  ds.height = images.dims[1];
  ds.width = images.dims[2];
  ds.classes = idx_classes(kind);
  switch (kind) {  // the usual per-dataset normalisation constants (torchvision examples, KMNIST paper repo)
    case IdxKind::Mnist: ds.mean = {0.1307f}; ds.std = {0.3081f}; break;
    case IdxKind::FashionMnist: ds.mean = {0.2860f}; ds.std = {0.3530f}; break;
    case IdxKind::Kmnist: ds.mean = {0.1918f}; ds.std = {0.3483f}; break;
  }
  ds.images = images.values;
  ds.labels.resize(labels.values.size());
  for (size_t i = 0; i < labels.values.size(); ++i) {
    const int64_t label = labels.values[i];
    MG_CHECK(label < ds.num_classes(), labels_name, ": record ", i, " has label ", label, ", expected 0..",
             ds.num_classes() - 1);
    ds.labels[i] = label;
  }
  return ds;
}

std::string find_plain_or_gz(const std::string& dir, const std::string& name) {
  const std::string plain = dir + "/" + name, gz = plain + ".gz";
  if (std::filesystem::exists(plain)) return plain;
  if (std::filesystem::exists(gz)) return gz;
  MG_FAIL("missing file: neither ", plain, " nor ", gz, " exists");
}

Splits load_idx(const std::string& dir, IdxKind kind) {
  const char* tag = kind == IdxKind::Mnist ? "mnist" : kind == IdxKind::FashionMnist ? "fashion-mnist" : "kmnist";
  auto split = [&](const std::string& prefix) {
    const std::string images_path = find_plain_or_gz(dir, prefix + "-images-idx3-ubyte");
    const std::string labels_path = find_plain_or_gz(dir, prefix + "-labels-idx1-ubyte");
    Dataset ds = idx_dataset(read_idx(images_path), read_idx(labels_path), images_path, labels_path, kind);
    ds.name = std::string(tag) + (prefix == "train" ? "/train" : "/test");
    return ds;
  };
  Splits s;
  s.train = split("train");
  s.test = split("t10k");
  return s;
}

}  // namespace mg::data
