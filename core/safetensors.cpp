#include "core/safetensors.h"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>

#include "core/atomic_file.h"

namespace mg {

static_assert(std::endian::native == std::endian::little, "safetensors I/O assumes a little-endian host");

namespace {

using json = nlohmann::json;
using ordered_json = nlohmann::ordered_json;

constexpr uint64_t kMaxHeaderBytes = 100'000'000;  // the reference implementation's limit
constexpr uint64_t kMaxDim = uint64_t{1} << 62;

// One header entry after its fields have been checked.
struct Entry {
  std::string name;
  std::string dtype;
  Shape shape;
  uint64_t begin = 0, end = 0;
};

// Bytes per element of a supported dtype; 0 for an unsupported one.
uint64_t item_size(const std::string& dtype) {
  if (dtype == "F32") return 4;
  if (dtype == "F64" || dtype == "I64") return 8;
  return 0;
}

// A non-negative JSON integer no larger than kMaxDim, or an error naming what it was.
uint64_t read_count(const json& v, const std::string& path, const std::string& name, const char* field) {
  MG_CHECK(v.is_number_unsigned() && v.get<uint64_t>() <= kMaxDim, "safetensors ", path, ": tensor '", name,
           "': ", field, " must hold non-negative integers, got ", v.dump());
  return v.get<uint64_t>();
}

// Checks one header entry's fields (dtype, shape, data_offsets, byte size) and returns it.
Entry parse_entry(const std::string& path, const std::string& name, const json& info) {
  const std::string where = "safetensors " + path + ": tensor '" + name + "'";
  MG_CHECK(info.is_object(), where, ": expected an object {dtype, shape, data_offsets}, got ", info.dump());
  for (const auto& [key, value] : info.items())
    MG_CHECK(key == "dtype" || key == "shape" || key == "data_offsets", where, ": unexpected field '", key,
             "' (expected dtype, shape, data_offsets)");
  MG_CHECK(info.contains("dtype") && info["dtype"].is_string(), where, ": missing or non-string 'dtype'");
  MG_CHECK(info.contains("shape") && info["shape"].is_array(), where, ": missing or non-array 'shape'");
  MG_CHECK(info.contains("data_offsets") && info["data_offsets"].is_array() && info["data_offsets"].size() == 2,
           where, ": 'data_offsets' must be an array [begin, end]");
  Entry e;
  e.name = name;
  e.dtype = info["dtype"].get<std::string>();
  const uint64_t itemsize = item_size(e.dtype);
  MG_CHECK(itemsize != 0, where, ": unsupported dtype '", e.dtype, "' (mixgrad reads F32, F64 and I64)");
  uint64_t count = 1;
  for (const json& d : info["shape"]) {
    const uint64_t n = read_count(d, path, name, "shape");
    MG_CHECK(n == 0 || count <= kMaxDim / n, where, ": shape ", info["shape"].dump(), " is too large");
    count *= n;
    e.shape.push_back(static_cast<int64_t>(n));
  }
  MG_CHECK(count <= kMaxDim / itemsize, where, ": shape ", info["shape"].dump(), " is too large");
  e.begin = read_count(info["data_offsets"][0], path, name, "data_offsets");
  e.end = read_count(info["data_offsets"][1], path, name, "data_offsets");
  MG_CHECK(e.begin <= e.end, where, ": data_offsets [", e.begin, ", ", e.end, "] end before they begin");
  MG_CHECK(e.end - e.begin == count * itemsize, where, ": data_offsets [", e.begin, ", ", e.end, "] hold ",
           e.end - e.begin, " bytes but ", e.dtype, " shape ", to_string(e.shape), " needs ", count * itemsize);
  return e;
}

// Parses the header JSON; rejects invalid JSON, a non-object and duplicate top-level names.
json parse_header(const std::string& path, const std::string& text) {
  std::set<std::string> seen;
  std::string duplicate;
  json::parser_callback_t on_event = [&](int depth, json::parse_event_t event, json& parsed) {
    if (depth == 1 && event == json::parse_event_t::key && parsed.is_string() &&
        !seen.insert(parsed.get<std::string>()).second && duplicate.empty())
      duplicate = parsed.get<std::string>();
    return true;
  };
  json header;
  try {
    header = json::parse(text, on_event);
  } catch (const json::exception& e) {
    MG_FAIL("safetensors ", path, ": header is not valid JSON (", e.what(), ")");
  }
  MG_CHECK(header.is_object(), "safetensors ", path, ": header must be a JSON object, got ", header.type_name());
  MG_CHECK(duplicate.empty(), "safetensors ", path, ": tensor '", duplicate, "' appears twice in the header");
  return header;
}

// Checks that the entries, sorted by offset, tile [0, data_bytes) exactly: no overlap, no gap, nothing past it.
void check_layout(const std::string& path, std::vector<Entry>& entries, uint64_t data_bytes) {
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return std::tie(a.begin, a.end) < std::tie(b.begin, b.end); });
  uint64_t cursor = 0;
  const Entry* previous = nullptr;
  for (const Entry& e : entries) {
    MG_CHECK(e.end <= data_bytes, "safetensors ", path, ": tensor '", e.name, "' data_offsets [", e.begin, ", ",
             e.end, "] run past the end of the data region (", data_bytes, " bytes)");
    MG_CHECK(e.begin >= cursor, "safetensors ", path, ": tensor '", e.name, "' data_offsets [", e.begin, ", ", e.end,
             "] overlap tensor '", previous ? previous->name : "", "' which ends at ", cursor);
    MG_CHECK(e.begin == cursor, "safetensors ", path, ": gap in the data region before tensor '", e.name,
             "': expected it to begin at ", cursor, ", it begins at ", e.begin);
    cursor = e.end;
    previous = &e;
  }
  MG_CHECK(cursor == data_bytes, "safetensors ", path, ": data region holds ", data_bytes,
           " bytes but the tensors cover only ", cursor);
}

// Reads `bytes` bytes at `offset` of the open file into `out`.
void read_at(std::ifstream& in, const std::string& path, uint64_t offset, void* out, uint64_t bytes) {
  in.seekg(static_cast<std::streamoff>(offset));
  in.read(static_cast<char*>(out), static_cast<std::streamsize>(bytes));
  MG_CHECK(in.good(), "safetensors ", path, ": read of ", bytes, " bytes at offset ", offset, " failed");
}

// The header text for `tensors` (entries in order, data packed back to back), padded to a multiple of 8.
std::string build_header(const std::string& path, const std::vector<SafeTensor>& tensors,
                         const std::map<std::string, std::string>& metadata) {
  ordered_json header = ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::set<std::string> names;
  uint64_t offset = 0;
  for (const SafeTensor& t : tensors) {
    MG_CHECK(!t.name.empty() && t.name != "__metadata__", "safetensors ", path, ": invalid tensor name '", t.name,
             "'");
    MG_CHECK(names.insert(t.name).second, "safetensors ", path, ": tensor '", t.name, "' given twice");
    if (t.integer) {
      MG_CHECK(static_cast<int64_t>(t.ints.size()) == numel(t.shape), "safetensors ", path, ": tensor '", t.name,
               "' has ", t.ints.size(), " integers for shape ", to_string(t.shape));
    } else {
      MG_CHECK(t.values.defined(), "safetensors ", path, ": tensor '", t.name, "' is undefined");
    }
    const Shape& shape = t.integer ? t.shape : t.values.shape();
    const uint64_t bytes = static_cast<uint64_t>(numel(shape)) * item_size(t.dtype());
    header[t.name] = {{"dtype", t.dtype()}, {"shape", shape}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  return text;
}

}  // namespace

SafeTensor SafeTensor::floating(std::string name, Tensor values) {
  SafeTensor t;
  t.name = std::move(name);
  t.shape = values.shape();
  t.values = std::move(values);
  return t;
}

SafeTensor SafeTensor::int64(std::string name, std::vector<int64_t> ints, Shape shape) {
  SafeTensor t;
  t.name = std::move(name);
  t.ints = std::move(ints);
  t.shape = std::move(shape);
  t.integer = true;
  return t;
}

std::string SafeTensor::dtype() const {
  if (integer) return "I64";
  return values.dtype() == DType::F32 ? "F32" : "F64";
}

Tensor SafeTensor::to_tensor(DType dtype) const {
  if (!integer) return values.to(dtype);
  return Tensor::from_vector(std::vector<double>(ints.begin(), ints.end()), shape, dtype);
}

const SafeTensor* SafeTensorsFile::find(const std::string& name) const {
  for (const SafeTensor& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

const SafeTensor& SafeTensorsFile::at(const std::string& name) const {
  const SafeTensor* t = find(name);
  MG_CHECK(t != nullptr, "safetensors ", path, ": no tensor named '", name, "'");
  return *t;
}

SafeTensorsFile read_safetensors(const std::string& path) {
  std::error_code ec;
  MG_CHECK(std::filesystem::is_regular_file(path, ec), "safetensors ", path, ": not found or not a regular file");
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  MG_CHECK(in.is_open(), "safetensors ", path, ": cannot open file (", std::strerror(errno), ")");
  const uint64_t file_bytes = static_cast<uint64_t>(in.tellg());
  MG_CHECK(file_bytes >= 8, "safetensors ", path, ": file is ", file_bytes,
           " bytes, shorter than the 8-byte header length");
  uint64_t header_bytes = 0;
  read_at(in, path, 0, &header_bytes, 8);
  MG_CHECK(header_bytes <= file_bytes - 8, "safetensors ", path, ": header length ", header_bytes,
           " runs past the end of the file (", file_bytes, " bytes)");
  MG_CHECK(header_bytes <= kMaxHeaderBytes, "safetensors ", path, ": header length ", header_bytes,
           " exceeds the limit of ", kMaxHeaderBytes, " bytes");
  std::string text(header_bytes, '\0');
  read_at(in, path, 8, text.data(), header_bytes);
  const json header = parse_header(path, text);

  SafeTensorsFile file;
  file.path = path;
  std::vector<Entry> entries;
  for (const auto& [name, info] : header.items()) {
    if (name == "__metadata__") {
      MG_CHECK(info.is_object(), "safetensors ", path, ": __metadata__ must be an object of strings");
      for (const auto& [key, value] : info.items()) {
        MG_CHECK(value.is_string(), "safetensors ", path, ": __metadata__ '", key, "' must be a string, got ",
                 value.dump());
        file.metadata[key] = value.get<std::string>();
      }
      continue;
    }
    entries.push_back(parse_entry(path, name, info));
  }
  const uint64_t data_start = 8 + header_bytes;
  check_layout(path, entries, file_bytes - data_start);

  for (const Entry& e : entries) {
    const uint64_t bytes = e.end - e.begin;
    if (e.dtype == "I64") {
      std::vector<int64_t> ints(bytes / 8);
      if (bytes) read_at(in, path, data_start + e.begin, ints.data(), bytes);
      file.tensors.push_back(SafeTensor::int64(e.name, std::move(ints), e.shape));
    } else {
      Tensor t = Tensor::empty(e.shape, e.dtype == "F32" ? DType::F32 : DType::F64);
      if (bytes) read_at(in, path, data_start + e.begin, t.storage()->data(), bytes);
      file.tensors.push_back(SafeTensor::floating(e.name, std::move(t)));
    }
  }
  return file;
}

void write_safetensors(const std::string& path, const std::vector<SafeTensor>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  const std::string header = build_header(path, tensors, metadata);
  AtomicFileWriter file(path);
  const uint64_t header_bytes = header.size();
  file.write(&header_bytes, 8);
  file.write(header.data(), header.size());
  for (const SafeTensor& t : tensors) {
    if (t.integer) {
      file.write(t.ints.data(), t.ints.size() * 8);
    } else {
      const Tensor c = t.values.contiguous();  // kept alive while its bytes are read
      const std::span<const std::byte> raw = c.bytes();
      file.write(raw.data(), raw.size());
    }
  }
  file.commit();
}

}  // namespace mg
