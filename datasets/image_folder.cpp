#include "datasets/image_folder.h"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "core/error.h"
#include "core/parallel.h"
#include "datasets/file_io.h"
#include "datasets/image_decode.h"
#include "datasets/stats.h"

namespace mg::data {

namespace fs = std::filesystem;

namespace {

// True for names ending in .png, .jpg, .jpeg or .bmp (any case) that are not hidden files.
bool is_image_name(const fs::path& p) {
  const std::string name = p.filename().string();
  if (name.empty() || name[0] == '.') return false;
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char ch) { return std::tolower(ch); });
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".bmp";
}

const char* kLayout = "expected ROOT/<class name>/<image>.png|.jpg|.jpeg|.bmp, one sub-folder per class";

}  // namespace

Dataset load_image_folder(const std::string& root, const Dataset* like) {
  MG_CHECK(fs::exists(root), "image folder ", root, " does not exist; ", kLayout);
  MG_CHECK(fs::is_directory(root), "image folder ", root, " is not a directory; ", kLayout);
  std::vector<std::string> classes;
  for (const auto& entry : fs::directory_iterator(root))
    if (entry.is_directory() && entry.path().filename().string()[0] != '.')
      classes.push_back(entry.path().filename().string());
  std::sort(classes.begin(), classes.end());
  MG_CHECK(!classes.empty(), "image folder ", root, " is empty: it has no class sub-folders; ", kLayout);
  if (like)
    MG_CHECK(classes == like->classes, "image folder ", root, " has ", classes.size(),
             " class sub-folders that differ from the training split's ", like->classes.size(),
             "; both splits need the same class sub-folders");

  // Every image file, sorted by path within its class.
  std::vector<std::string> paths;
  std::vector<int64_t> labels;
  for (size_t label = 0; label < classes.size(); ++label) {
    const fs::path dir = fs::path(root) / classes[label];
    std::vector<std::string> found;
    for (const auto& entry : fs::recursive_directory_iterator(dir, fs::directory_options::follow_directory_symlink))
      if (entry.is_regular_file() && is_image_name(entry.path())) found.push_back(entry.path().string());
    std::sort(found.begin(), found.end());
    MG_CHECK(!found.empty(), "image folder ", root, ": class folder ", dir.string(),
             " is empty: it holds no .png, .jpg, .jpeg or .bmp images");
    paths.insert(paths.end(), found.begin(), found.end());
    labels.insert(labels.end(), found.size(), static_cast<int64_t>(label));
  }

  // Read the headers first: all images must share the first image's size; channels = 1 only if all are gray.
  const int64_t n = static_cast<int64_t>(paths.size());
  std::vector<Bytes> files(n);
  std::vector<ImageInfo> infos(n);
  std::vector<std::string> errors(n);
  // Files are read and decoded in parallel, each into its own slot; the first error in path order is reported.
  auto each = [&](auto&& fn) {
    parallel_for(0, n, 16, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        try {
          fn(i);
        } catch (const Error& err) {
          errors[i] = err.what();
        }
      }
    });
    for (const std::string& e : errors) MG_CHECK(e.empty(), e);
  };
  each([&](int64_t i) {
    files[i] = read_file(paths[i]);
    infos[i] = image_info(files[i].data(), files[i].size(), paths[i]);
  });
  bool all_gray = true;
  for (int64_t i = 0; i < n; ++i) {
    MG_CHECK(infos[i].width == infos[0].width && infos[i].height == infos[0].height, "image folder ", root, ": ",
             paths[i], " is ", infos[i].width, "x", infos[i].height, " but ", paths[0], " is ", infos[0].width,
             "x", infos[0].height, "; all images must have the same size");
    all_gray = all_gray && infos[i].channels <= 2;
  }

  Dataset ds;
  ds.name = root;
  ds.files = paths;
  ds.classes = classes;
  ds.labels = labels;
  ds.channels = like ? like->channels : all_gray ? 1 : 3;
  ds.height = infos[0].height;
  ds.width = infos[0].width;
  if (like)
    MG_CHECK(ds.height == like->height && ds.width == like->width, "image folder ", root, ": images are ",
             ds.width, "x", ds.height, " but the training images are ", like->width, "x", like->height);
  const int64_t C = ds.channels, HW = ds.height * ds.width;
  ds.images.resize(static_cast<size_t>(n * C * HW));
  each([&](int64_t i) {
    ImageInfo got;
    const Bytes hwc = decode_image(files[i].data(), files[i].size(), static_cast<int>(C), paths[i], &got);
    MG_CHECK(got.width == ds.width && got.height == ds.height, paths[i], ": decodes to ", got.width, "x",
             got.height, " but its header says ", ds.width, "x", ds.height);
    uint8_t* chw = ds.images.data() + i * C * HW;  // interleaved HWC -> planar CHW
    for (int64_t p = 0; p < HW; ++p)
      for (int64_t c = 0; c < C; ++c) chw[c * HW + p] = hwc[p * C + c];
    Bytes().swap(files[i]);
  });
  if (like) {
    ds.mean = like->mean;
    ds.std = like->std;
    return ds;
  }
  const ChannelStats stats = channel_stats(ds);
  for (int64_t c = 0; c < C; ++c) {
    ds.mean.push_back(static_cast<float>(stats.mean[c]));
    ds.std.push_back(static_cast<float>(std::max(stats.std[c], 1e-3)));  // a constant channel still normalises
  }
  return ds;
}

Splits load_image_folder_splits(const std::string& root) {
  Splits s;
  const fs::path train = fs::path(root) / "train";
  const bool has_train = fs::is_directory(train);
  s.train = load_image_folder(has_train ? train.string() : root);
  s.train.name = "image-folder/train";
  fs::path test = fs::path(root) / "test";
  if (!fs::is_directory(test)) test = fs::path(root) / "val";
  if (has_train && fs::is_directory(test)) {
    s.test = load_image_folder(test.string(), &s.train);
  } else {
    s.test.classes = s.train.classes;
    s.test.channels = s.train.channels;
    s.test.height = s.train.height;
    s.test.width = s.train.width;
    s.test.mean = s.train.mean;
    s.test.std = s.train.std;
  }
  s.test.name = "image-folder/test";
  return s;
}

}  // namespace mg::data
