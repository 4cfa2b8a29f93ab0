// Package models builds the CIFAR classifiers that ODIN runs from the tensors of their PyTorch
// checkpoints, as graphs of package nn.
//
// # Architectures
//
// Three families, for 3×32×32 inputs, each a DenseNetConfig, WideResNetConfig or ResNetConfig:
//
//   - "densenet": DenseNet-BC (Huang et al. 2017), the seed's densenet10 and densenet100
//     (DenseNet-BC-100, growth rate 12, compression 0.5). A 3×3 convolution to 2·Growth
//     channels; three dense blocks of (Depth−4)/6 bottleneck layers, each
//     BN-ReLU-Conv1×1 (4·Growth) then BN-ReLU-Conv3×3 (Growth) concatenated to its input;
//     between blocks a transition BN-ReLU-Conv1×1 (⌊channels·Compression⌋) and 2×2 average
//     pooling; then BN-ReLU, global average pooling and a linear layer.
//   - "wideresnet": Wide ResNet (Zagoruyko & Komodakis 2016), the seed's WRN-28-10. A 3×3
//     convolution to 16 channels; three groups of (Depth−4)/6 pre-activation basic blocks of
//     16·Widen, 32·Widen and 64·Widen channels with strides 1, 2, 2; a block adds its input when
//     width and stride are unchanged, otherwise a 1×1 convolution (convShortcut) of its
//     BN-ReLU'd input; then BN-ReLU, global average pooling and a linear layer.
//   - "resnet": the CIFAR ResNets of He et al. 2016, section 4.2 (ResNet-20, -56, ...). A 3×3
//     convolution to 16 channels with BN-ReLU; three stages of (Depth−2)/6 post-activation basic
//     blocks of 16, 32 and 64 channels with strides 1, 2, 2, whose shortcut where the shape
//     changes is option A: every second pixel, zero-padded by channels/4 on each side; then
//     global average pooling and a linear layer.
//
// Two more families come from torchvision and OpenOOD (torchvision.go), for any square input
// side (FromTensorsAt; FromTensors uses 224 and 32), each an ImageResNetConfig whose widths are
// read from the tensors:
//
//   - "torchvision_resnet": torchvision's ResNet-18/34 (basic blocks) and 50/101/152
//     (bottlenecks, stride on the 3×3 convolution): a 7×7 stride-2 convolution, BN-ReLU, a 3×3
//     stride-2 max-pool with padding 1, four stages of 64, 128, 256 and 512 (×4) channels with
//     strides 1, 2, 2, 2 and a 1×1 convolution + BN shortcut ("downsample.0/1") where the shape
//     changes; global average pooling and fc. ImageNet normalisation.
//   - "openood_resnet18_32x32": OpenOOD v1.5's ResNet18_32x32, the CIFAR model of today's OOD
//     benchmarks: a 3×3 stride-1 convolution to 64 channels with BN-ReLU and no max-pool, basic
//     blocks [2, 2, 2, 2] as above with "shortcut.0/1" projections, global average pooling and
//     fc. OpenOOD's CIFAR-10 normalisation (OpenOODCIFAR10Mean, OpenOODCIFAR10Std).
//
// Each batch norm is folded into the convolution before it (weights and bias computed in
// float64, rounded once), as an ONNX export does, so that the engine fuses the ReLUs into the
// convolutions. Both are inferred from fc.weight, layer4 and the stem's kernel (7×7 or 3×3), and
// never from a checkpoint with "linear" (the CIFAR ResNets). Their tests run
// narrow committed state_dicts and, when generated (testdata/gen_statedicts.py --large),
// torchvision's resnet18/34/50 and a full ResNet18_32x32, against PyTorch 1.13.
//
// # Preprocessing
//
// Preprocess (preprocess.go) is an image's preparation as data: mean, std, resize of the shorter
// side, centre crop, interpolation and pixel scale, read from JSON (ParsePreprocess). Its
// Transform is applied by package dataset (PIL's resize, bit-exact); Apply sets a Model's Mean and
// Std in the units of the [0, 1] images the datasets yield, folding the pixel scale in.
// Model.Normalize works at the graph's input shape.
//
// Batch normalisation runs in inference mode on the running statistics, epsilon 1e-5. Dropout
// has no weights and is an identity at inference. Every graph exposes taps "block1".."block3"
// ("layer1".."layer3" for ResNets) after each stage and "features" before the linear layer.
//
// # Tensor names
//
// Tensors are named as PyTorch's state_dict names them, without any "module." prefix:
// conv1.weight, block1.layer.0.bn1.running_mean, trans1.conv1.weight, fc.bias (DenseNet);
// block1.layer.0.convShortcut.weight, bn1.weight, fc.weight (Wide ResNet); layer1.0.conv2.weight,
// linear.bias (ResNet). Convolutions may carry a bias tensor; the seed's have none.
//
// # Inference
//
// With arch "" the family is chosen from the names: trans1.conv1.weight and
// block1.layer.0.conv2.weight mean DenseNet-BC; otherwise block1.layer.0.conv1.weight and
// fc.weight mean Wide ResNet; layer1.0.conv1.weight and linear.weight mean CIFAR ResNet. The
// configuration is then read off the tensors: the depth from the number of consecutive layers
// in the first block (block1.layer.N / layer1.N), the growth rate from
// block1.layer.0.conv2.weight, the compression from trans1.conv1.weight, the widening factor
// from block1.layer.0.conv1.weight (its output channels / 16) and the class count from the
// linear layer's rows. Model.Name reports the result, e.g. "DenseNet-BC-100 (k=12)",
// "WRN-28-10", "ResNet-20".
//
// # Normalisation
//
// Images enter in [0,1], channel-major (3×32×32, as PyTorch lays them out) and are normalised
// per channel by Model.Normalize: (x − Mean)/Std. DenseNets and Wide ResNets use the CIFAR
// statistics the seed trained with (CIFARMean, CIFARStd: mean (125.3, 123.0, 113.9)/255,
// std (63.0, 62.1, 66.7)/255); CIFAR ResNets use ImageNet's (ImageNetMean, ImageNetStd). The
// network's input, and so ODIN's input gradient and perturbation, are in normalised units.
//
// # Errors
//
// FromTensors and Load refuse a checkpoint rather than build a wrong network. Every tensor the
// architecture needs must be present with exactly the expected shape, and every tensor present
// must be used (BatchNorm's num_batches_tracked excepted). Building stops at the first missing
// or mis-shaped tensor, before anything is allocated at the size the network implies, so memory
// is bounded by the tensors given, not by the sizes inferred from them: the depth is counted
// from the layer names present (one pass over the names), and channel and class counts are
// only used once a tensor holding that many values has matched them. Errors are one line and name the
// network and the tensor, e.g. "DenseNet-BC-100 (k=12): missing tensor
// block2.layer.3.bn1.running_var", "ResNet-20: tensor linear.bias has shape [100], want [10]",
// "WRN-10-1: unexpected tensor block1.layer.0.convShortcut.weight"; a forced architecture that
// does not fit says so ("not a DenseNet-BC: block1.layer.0, trans1 or fc missing"). Load
// prefixes "checkpoint <file name>: ".
//
// KnownNetworks and Resolve map the names users pass as --nn (densenet10, resnet20, ...) to
// checkpoint files under <data>/models.
//
// The package's tests compare every family with PyTorch 1.13 on fixtures written by
// testdata/gen_torch.py: logits, ODIN input gradients and scores.
package models
