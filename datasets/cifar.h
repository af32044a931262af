// CIFAR-10 and CIFAR-100, binary versions (https://www.cs.toronto.edu/~kriz/cifar.html).
// CIFAR-10 record: 1 label byte (0-9), then 3072 pixel bytes (1024 R, 1024 G, 1024 B; each 32×32 row-major).
// CIFAR-100 record: 1 coarse label byte (0-19), 1 fine label byte (0-99), then the same 3072 pixel bytes;
// mixgrad uses the fine label. A file holds file_size / record_size records; any remainder is an error.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "datasets/dataset.h"

namespace mg::data {

enum class CifarKind { Cifar10, Cifar100 };

constexpr int64_t kCifarImageBytes = 3 * 32 * 32;
int64_t cifar_record_bytes(CifarKind kind);  // 3073 or 3074

// Official file names inside cifar-10-batches-bin/ and cifar-100-binary/.
std::vector<std::string> cifar_train_files(CifarKind kind);  // data_batch_1..5.bin or train.bin
std::string cifar_test_file(CifarKind kind);                 // test_batch.bin or test.bin

std::vector<std::string> cifar10_classes();
std::vector<std::string> cifar100_classes();  // the 100 fine labels, in label order

// Decodes the records of one CIFAR binary file held in memory; `name` (the file) appears in every message.
Dataset parse_cifar(const uint8_t* data, size_t size, CifarKind kind, const std::string& name);

// Reads one CIFAR binary file.
Dataset load_cifar_file(const std::string& path, CifarKind kind);

// Reads the official training files (joined in order) and the test file from `dir`.
Splits load_cifar(const std::string& dir, CifarKind kind);

}  // namespace mg::data
