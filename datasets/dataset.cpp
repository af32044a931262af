#include "datasets/dataset.h"

#include "core/error.h"

namespace mg::data {

std::vector<int64_t> class_counts(const Dataset& ds) {
  std::vector<int64_t> counts(ds.classes.size(), 0);
  for (int64_t label : ds.labels) counts.at(static_cast<size_t>(label)) += 1;
  return counts;
}

void validate(const Dataset& ds) {
  MG_CHECK(ds.channels > 0 && ds.height > 0 && ds.width > 0, ds.name, ": image shape [", ds.channels, ", ",
           ds.height, ", ", ds.width, "] must be positive");
  MG_CHECK(ds.images.size() == static_cast<size_t>(ds.size() * ds.image_bytes()), ds.name, ": ",
           ds.images.size(), " pixel bytes do not match ", ds.size(), " images of ", ds.image_bytes(), " bytes");
  for (int64_t i = 0; i < ds.size(); ++i)
    MG_CHECK(ds.labels[i] >= 0 && ds.labels[i] < ds.num_classes(), ds.name, ": image ", i, " has label ",
             ds.labels[i], ", expected 0..", ds.num_classes() - 1);
  MG_CHECK(ds.mean.size() == static_cast<size_t>(ds.channels) && ds.std.size() == ds.mean.size(), ds.name,
           ": mean/std have ", ds.mean.size(), "/", ds.std.size(), " entries for ", ds.channels, " channels");
  for (float s : ds.std) MG_CHECK(s > 0.0f, ds.name, ": normalisation std must be positive, got ", s);
}

void append(Dataset& a, const Dataset& b) {
  MG_CHECK(a.shape() == b.shape(), "cannot join ", b.name, " to ", a.name, ": image shapes differ");
  MG_CHECK(a.classes == b.classes, "cannot join ", b.name, " to ", a.name, ": class lists differ");
  a.images.insert(a.images.end(), b.images.begin(), b.images.end());
  a.labels.insert(a.labels.end(), b.labels.begin(), b.labels.end());
  a.files.insert(a.files.end(), b.files.begin(), b.files.end());
}

}  // namespace mg::data
