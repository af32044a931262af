// All of mixgrad's layers: Linear, Conv2d, BatchNorm2d, ReLU, MaxPool2d, AvgPool2d, Flatten, Dropout,
// Sequential.
#pragma once
#include "nn/layers/batchnorm.h"
#include "nn/layers/linear.h"
#include "nn/layers/sequential.h"
#include "nn/layers/simple.h"
