// mixgrad's models and the by-name registry.
#pragma once
#include "nn/models/preact_resnet.h"
#include "nn/models/registry.h"
#include "nn/models/smallcnn.h"
#include "nn/models/wide_resnet.h"
