// Package onnx imports image classifiers exported to ONNX (https://onnx.ai) as odin models:
// it reads the protobuf file without generated code or cgo, folds what can be computed when the
// model is loaded, and maps the remaining operators onto package nn's graph, which runs them
// forward and differentiates them with respect to the input image.
//
// # Reading
//
// DecodeModel parses a ModelProto (IR versions of any age; opset imports of the default domain
// from MinOpset to MaxOpset). Tensors are read from raw_data or the typed fields (float, double,
// float16, bfloat16, 8- to 64-bit integers, bool), or from external data files (ExternalData.md:
// location, offset, length) beside the model. A location must stay inside the model's folder:
// absolute paths, ".." and symbolic links that lead outside are refused (os.Root). Every tensor's
// dims must agree with its data, and no tensor may exceed Options.MaxTensorElements.
//
// # Preparation
//
// Nodes are sorted topologically (a cycle is an error naming a node on it). Initializers that
// PyTorch also lists as graph inputs are weights; the one remaining input is the image, which
// must be a float tensor [N, C, H, W]. The batch dimension may be symbolic; other symbolic
// dimensions come from Options.InputShape. Nodes whose inputs are all constants (Constant,
// Shape, Gather, Unsqueeze, Squeeze, Concat, ConstantOfShape, Cast, Reshape, Slice, arithmetic,
// …) are evaluated when the model is loaded; Shape of a computed value reports its dimensions,
// the batch as a marker that Reshape reads back as "the batch". Identity and Dropout vanish. A
// final Softmax or LogSoftmax is removed, so that the detectors see logits (a softmax at
// temperature T of log-softmax outputs equals that of the logits), and the Report says so once.
//
// # Mapping
//
// The operators odin maps (see docs/models.md for the table) become nn layers: Conv (groups,
// depthwise, dilation, strides, asymmetric pads, auto_pad), BatchNormalization, activations,
// broadcasting Add/Sub/Mul/Div (by a scalar or per-channel constant as an exact affine layer that
// the plan fuses into convolutions), Concat, Split, Slice, Pad, pools, ReduceMean, Flatten and
// Reshape where the data stays in order, Gemm/MatMul, LayerNormalization. Patterns that nn has as
// one layer are recognised: a channels-last Transpose is not carried out but tracked, so
// ConvNeXt's Transpose → LayerNormalization → MatMul → … → Transpose runs channel-major;
// Reshape → Transpose → Reshape of channel groups is ShuffleNet's channel shuffle; a stride-2
// Slice followed by a channel Pad is a CIFAR ResNet's option-A shortcut.
//
// The input of the final Gemm or MatMul is tapped as "features" (Options.Features names another
// node). A model that uses an operator outside the supported set is refused with one line that
// lists each unsupported operator and the first node using it.
//
// # Errors
//
// Every malformed file gives a one-line error, never a panic: truncated data, fields of the wrong
// wire type, dims that disagree with the data or whose product overflows or exceeds the limit,
// external data outside the model's folder, cycles, undefined values, unsupported operators, and
// inputs that are not images.
package onnx
