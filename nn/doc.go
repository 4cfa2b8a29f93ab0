// Package nn is odin's inference engine for convolutional networks: it runs a network forward on
// micro-batches of images and propagates gradients back to the input image, which is what ODIN
// and the other perturbing detectors need. Weights are frozen; no weight gradient is computed.
//
// # Graphs
//
// A network is a Graph: a directed acyclic graph of layers in topological order, assembled with a
// Builder (Conv2d, BatchNorm, ReLU, AvgPool, GlobalAvgPool, Linear, Add, Concat, ShortcutA) and
// finished by Build with the logits as its output. Shapes are per image (C×H×W); every layer checks
// its input shapes and the Builder records the first error, naming the layer. Tap names an
// intermediate value (e.g. the penultimate features) so that an Exec can read it and start a
// backward pass from it. Package models builds DenseNet-BC, Wide ResNet and CIFAR ResNet graphs
// from named tensors; an importer of another format would build the same graphs.
//
// Build compiles an execution plan: an inference batch norm that feeds only a ReLU becomes one
// elementwise pass; one that feeds only convolutions (with or without the ReLU) is applied inside
// each convolution as it reads its input and is never stored; a 1×1 convolution that feeds only
// an average pool (a DenseNet transition) pools its normalised input first and multiplies a
// quarter of the pixels, which is exact up to rounding because both are linear; values nothing
// needs are dropped; and the inputs of a chain of concatenations (a dense block) are laid out in place inside the
// concatenation's buffer, so concatenating moves nothing in either direction.
//
// Backwards, gradients are added into their buffers, each cleared just before its first write,
// except where one layer alone consumes a value: that layer writes the gradient instead (a
// convolution on any path, a residual sum, with or without a fused activation; a 3×3 Winograd
// convolution whose normalised input has no other consumer, DenseNet's bottleneck, through the
// normalisation too), so the buffer is neither cleared nor read. The normalisation fused into a
// 1×1 convolution is differentiated as the product's tiles are stored (gemm.MulGrad), so its
// product is never written out. Values whose gradients are never live at the same time share a
// gradient buffer (gradbuf.go), and values that no backward pass reads (a convolution feeding
// only a residual sum) share value buffers (valbuf.go): ResNet-50 at 224×224 needs about 450 MB
// per executor of 8 images instead of 1.1 GB.
//
// # Convolutions
//
// 1×1 convolutions are one matrix product (internal/gemm) over the whole micro-batch; 3×3 stride-1
// pad-1 convolutions of planes that fit whole 4×4 tiles use Winograd's F(4×4, 3×3), those of
// other planes (ImageNet networks' 56, 28, 14 and 7 pixels; an odd plane's last tiles padded
// with zeros) F(2×2, 3×3), whose transforms only add and subtract, so its rounding stays close
// to the direct convolution's (see useWinograd2); other stride-1
// convolutions multiply a padded copy of each image in place; the rest are lowered with im2col,
// in chunks of whole images, or, for a strided convolution whose one image would not fit 1 MiB
// (an ImageNet stem), in bands of output rows that do.
// The input gradient of a plane-preserving convolution is again a convolution, of the output
// gradient with the flipped kernel, and runs on the same paths; the others use a transposed
// product and col2im. Wide Winograd layers (cin·cout ≥ 320·640, Wide ResNet-28-10's
// 640-channel stage) instead take the exact adjoint of their forward transforms with the
// forward's transformed kernels, transposed chunk by chunk: a second set of transformed kernels
// would be four times the layer's weights.
//
// # Imported operators
//
// The layers of imported classifiers (ONNX) are Builder methods too. Convolutions take groups,
// dilation, separate strides and asymmetric padding (Conv's optional fields; conv_general.go):
// without those they keep the paths above; a depthwise one (a group per input channel) runs a
// direct loop that reads each plane in place, all kernel rows per pass in AVX2 or AVX-512
// (stride 1 on the flattened plane, the taps that wrap around a row's end masked; stride 2 at
// the kept columns only, deinterleaving each tap's source values; conv_depthwise.go) with the
// sums of the tap-by-tap definition bit for bit, and its input gradient is the same loop on the
// gradient with the flipped kernel (stride 1) or each spread gradient row through the reversed
// kernel rows (stride 2), added in place. With AVX-512 and 3-wide kernels a whole layer is one
// kernel call (dwplanes.go; the runs of rows, the same for every plane, are listed once; the
// clamp fused into the stores) and the stride-2 input gradient a plane per call, the spread
// built in registers (dwback2.go): on 7×7 and 14×14 planes the Go work around each plane had
// cost as much as the arithmetic. Other groups are one im2col product per group. Elementwise layers: LeakyReLU, Clip, Sigmoid, HardSigmoid,
// HardSwish, Tanh, Erf, GELU, Sqrt, Pow; Add, Sub, Mul and Div broadcast over C, H and W, with
// Const operands that take no gradient. MaxPool and AvgPool2d follow PyTorch's windows (padding,
// ceil mode, count_include_pad); MeanC and LayerNormC reduce over channels at each pixel;
// Slice, Split, PermuteChannels (ChannelShuffle), Pad and Flatten move values. A ReLU or Clip
// whose input is a convolution's or a residual sum's output that nothing else reads runs inside
// that step (fuse.go), so that value and its gradient are never stored; after a dense
// convolution it runs with the bias in one pass while the output is in cache: block by block of
// a 1×1 convolution's product, band by band of a lowered one, and on each piece of output row
// as a Winograd inverse transform writes it (epilogue.go); after a residual sum it runs in the
// sum's own vector pass. Stride-2 lowering (im2col and col2im) and Winograd F(2×2)'s even/odd
// split of its rows run in AVX2 (vec.Gather2Rows, AddScatter2Rows, Deinterleave), and so do
// 3×3 stride-2 max pooling's windows and its backward search for each window's first maximum
// (pool_amd64.s); all give the bits of their scalar loops. Each of these layers computes an
// image from that image alone, so the determinism below holds for them too.
// A mean over a whole plane (global average pooling) and the gradient of an operand broadcast
// over a plane (a squeeze-and-excitation gate's) are summed in float64 and rounded once: a
// float32 running sum over 56×56 pixels errs by tens of ulps, which made RegNet-Y's activations
// a fifth less exact than PyTorch's.
//
// # Executing
//
// An Exec runs one Graph on micro-batches of up to Cap images: Forward, then Logits or Tap to
// read values, then Backward from the logits or a tap, which returns the gradient with respect to
// the (normalised) input images. Images enter and leave in PyTorch's layout (one C×H×W image after
// another). Inside, every value of a micro-batch is stored channel-major with the images side by
// side: element (c, image b, pixel p) of a value with plane size hw sits at c·ld + b·hw + p with
// ld = B·hw + 16 (B the micro-batch the buffers are sized for), so that a channel of the whole
// micro-batch is one contiguous row and a 1×1 convolution is one product. The 16 floats of
// padding (one cache line) keep rows a power of two apart from falling into the same cache sets.
// An Exec owns all its buffers (on Linux, advised into transparent huge pages): once they have
// grown to the micro-batches it runs, repeated runs allocate nothing. Profile runs the same
// passes step by step and times each step (a layer after fusion), to show where a network's
// time goes.
//
// Pool runs a Graph over many images with a fixed number of workers, each with its own Exec,
// taking micro-batches in order; Run stops at the first error or when its context is cancelled.
//
// # Limits and memory
//
// An Exec's buffers (the sharing above, at the micro-batch size) are sized by the largest
// micro-batch it has run, not by its Cap, and grow
// (at least doubling, up to Cap) when a larger one comes: five images cost five images' memory
// whatever the batch size. Pool.Run starts only as many workers as there are micro-batches. A
// Pool refuses more than MaxWorkers (256) workers or micro-batches over MaxBatch (1024) images
// with an error wrapping ErrLimit; CheckBatch and CheckWorkers make the same checks for callers
// that size their own buffers by them.
//
// # Determinism
//
// Every image's result is computed by the same sequence of float32 operations whatever the other
// images of its micro-batch, the batch size and the number of workers: logits, taps and input
// gradients are bit-identical for 1 and 2 workers and any micro-batch size (tested). They depend
// on the matrix kernel (AVX2+FMA assembly or the portable Go one), which round differently.
//
// # Concurrency
//
// A Graph is immutable after Build and may be shared by any number of goroutines; an Exec is not
// safe for concurrent use.
package nn
