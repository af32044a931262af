"""PyTorch definitions of mixgrad's models, for cross-checks and benchmarks against PyTorch.

Each matches mixgrad's model of the same name layer for layer: the same state_dict keys, shapes and order, and
the same semantics. Inputs are normalized (N, 3, 32, 32) images; outputs are logits (N, num_classes).

    smallcnn         SmallCNN(bn=False)
    smallcnn-bn      SmallCNN(bn=True)
    preact-resnet18  PreActResNet18  (the ResNet-18 of facebookresearch/mixup-cifar10, pre-activation blocks)
    wrn-16-8         WideResNet(16, 8)  (Zagoruyko & Komodakis 2016; the paper's Fig. 1a model, on SVHN)
    wrn-28-10        WideResNet(28, 10)
"""
import torch.nn as nn
import torch.nn.functional as F


def _conv_stage(cin, cout, bn):
    """conv3x3 with bias, optional BatchNorm2d, ReLU."""
    layers = [nn.Conv2d(cin, cout, kernel_size=3, padding=1)]
    if bn:
        layers.append(nn.BatchNorm2d(cout))
    return layers + [nn.ReLU(inplace=True)]


class SmallCNN(nn.Module):
    """Two conv stages of two 3x3 convs (32 then 64 channels), each stage closed by a 2x2 max-pool, then
    flatten -> linear(4096, 256) -> ReLU -> linear(256, num_classes)."""

    def __init__(self, bn=False, num_classes=10, in_channels=3):
        super().__init__()
        self.features = nn.Sequential(
            *_conv_stage(in_channels, 32, bn), *_conv_stage(32, 32, bn), nn.MaxPool2d(2),
            *_conv_stage(32, 64, bn), *_conv_stage(64, 64, bn), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(64 * 8 * 8, 256), nn.ReLU(inplace=True), nn.Linear(256, num_classes))

    def forward(self, x):
        return self.classifier(self.features(x))


class PreActBlock(nn.Module):
    """With a = relu(bn1(x)): out = conv2(relu(bn2(conv1(a)))) + shortcut(a), where shortcut is the identity
    (on a, not on x, as in mixup-cifar10), or a 1x1 strided conv when the stride or the width changes."""

    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_planes)
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Sequential(nn.Conv2d(in_planes, planes, 1, stride=stride, bias=False))

    def forward(self, x):
        pre = F.relu(self.bn1(x))
        return self.conv2(F.relu(self.bn2(self.conv1(pre)))) + self.shortcut(pre)


class PreActResNet18(nn.Module):
    """conv3x3(3->64), bn1 + ReLU, four stages of two PreActBlocks (64, 128, 256, 512 channels; stride 1, 2,
    2, 2), 4x4 average pool, linear(512, num_classes)."""

    def __init__(self, num_classes=10, in_channels=3):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 64, 3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        widths, strides, planes = [64, 128, 256, 512], [1, 2, 2, 2], 64
        for i, (width, stride) in enumerate(zip(widths, strides)):
            setattr(self, f"layer{i + 1}", nn.Sequential(PreActBlock(planes, width, stride), PreActBlock(width, width)))
            planes = width
        self.linear = nn.Linear(512, num_classes)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer4(self.layer3(self.layer2(self.layer1(out))))
        return self.linear(F.avg_pool2d(out, 4).flatten(1))


class WideBasic(nn.Module):
    """Pre-activation wide block: a = relu(bn1(x)); out = conv2(dropout(relu(bn2(conv1(a))))) + shortcut, where
    the shortcut is x when the shape is kept, else a 1x1 strided conv (no BN) of a."""

    def __init__(self, in_planes, planes, stride, drop_rate=0.0):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_planes)
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.drop_rate = drop_rate
        self.keeps_shape = in_planes == planes and stride == 1
        self.shortcut = None if self.keeps_shape else nn.Conv2d(in_planes, planes, 1, stride, 0, bias=False)

    def forward(self, x):
        a = F.relu(self.bn1(x))
        y = F.relu(self.bn2(self.conv1(a)))
        if self.drop_rate > 0:
            y = F.dropout(y, p=self.drop_rate, training=self.training)
        return self.conv2(y) + (x if self.keeps_shape else self.shortcut(a))


class WideResNet(nn.Module):
    """WRN-depth-widen (depth = 6n + 4): conv3x3(in->16), three groups of n WideBasic blocks (16k, 32k, 64k
    channels; stride 1, 2, 2), bn + ReLU, global average pool, fc(64k, num_classes). Convolutions start as
    kaiming_normal_(fan_out, relu), fc.bias as 0."""

    def __init__(self, depth, widen, num_classes=10, in_channels=3, drop_rate=0.0):
        super().__init__()
        n = (depth - 4) // 6
        widths = [16, 16 * widen, 32 * widen, 64 * widen]
        self.conv1 = nn.Conv2d(in_channels, widths[0], 3, 1, 1, bias=False)
        for g, stride in enumerate([1, 2, 2]):
            blocks = [WideBasic(widths[g] if i == 0 else widths[g + 1], widths[g + 1], stride if i == 0 else 1,
                                drop_rate) for i in range(n)]
            setattr(self, f"block{g + 1}", nn.Sequential(*blocks))
        self.bn = nn.BatchNorm2d(widths[3])
        self.fc = nn.Linear(widths[3], num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        nn.init.zeros_(self.fc.bias)

    def forward(self, x):
        y = F.relu(self.bn(self.block3(self.block2(self.block1(self.conv1(x))))))
        return self.fc(F.adaptive_avg_pool2d(y, 1).flatten(1))


MODELS = {
    "smallcnn": lambda **kw: SmallCNN(bn=False, **kw),
    "smallcnn-bn": lambda **kw: SmallCNN(bn=True, **kw),
    "preact-resnet18": lambda **kw: PreActResNet18(**kw),
    "wrn-16-8": lambda **kw: WideResNet(16, 8, **kw),
    "wrn-28-10": lambda **kw: WideResNet(28, 10, **kw),
}


def make_model(name, num_classes=10, in_channels=3):
    """A freshly initialised model by name (PyTorch's default initialisation)."""
    if name not in MODELS:
        raise SystemExit(f"unknown model {name!r}; known: {', '.join(MODELS)}")
    return MODELS[name](num_classes=num_classes, in_channels=in_channels)
