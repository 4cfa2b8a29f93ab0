// Package dataset reads the image sets ODIN is evaluated on: the CIFAR test sets (in-distribution)
// and the out-of-distribution (OOD) sets of the seed implementation (Liang, Li & Srikant), and
// builds the Tiny-ImageNet and LSUN OOD sets from their raw images.
//
// # Images
//
// Every set is a Dataset: random access to 32×32 RGB images by index, safe for concurrent use.
// Image(i, dst) writes 3072 float32 values in [0, 1], channel-major (1024 R, 1024 G, 1024 B, each
// row-major), computed from 8-bit samples v as float32(v)/255, bit-identical to torchvision's
// ToTensor. Normalisation is the caller's. Sets without labels return label −1.
//
// # CIFAR
//
// OpenCIFAR10 and OpenCIFAR100 read the official binary files whole (30 MB for 10,000 images)
// and check them: an empty file, a size that is not a whole number of records, or a label out of
// range is an error naming the file and the record. Class names come from the meta files beside
// them when present.
//
// # Folders
//
// OpenFolder reads PNG and JPEG files, recognised by content, at any depth below a folder, in
// the order of their '/'-separated relative paths sorted as byte strings; names starting with
// '.' are ignored. It reads only headers, so it is fast; Image decodes on demand, and
// Folder.Preload decodes everything once. Other files are errors naming them, or are skipped
// (FolderOptions.SkipBad) and reported. Images that are not 32×32 are refused, naming the file
// and its size, unless FolderOptions.Resize chooses a filter.
//
// Pixels are converted to RGB as PIL's convert("RGB") does after PIL's decoding, as torchvision's
// ImageFolder loader did for the seed: gray is replicated, palettes looked up, alpha dropped
// (not composited), CMYK converted with PIL's formula (exactly), 16-bit samples reduced to
// their high byte. JPEG decoding uses image/jpeg for the entropy decoding and inverse DCT, and
// libjpeg's "fancy" chroma upsampling (4:2:0 and 4:2:2) and fixed-point YCbCr→RGB
// conversion: on the Tiny-ImageNet test JPEGs the result differs from PIL 9.4 (libjpeg-turbo)
// in about 3% of the samples, by at most 3 levels (mean absolute difference 0.03 level); plain
// image/jpeg conversion would differ by 1.5 levels on average and up to 79.
//
// # Noise
//
// Uniform(n, seed) and Gaussian(n, seed) generate images whose values are independent: U[0, 1)
// and N(0.5, 1) clamped to [0, 1]. Image i is drawn from its own ChaCha8 stream keyed by (seed, i),
// so any subset of a set can be regenerated alone and in any order.
//
// # Names and where sets are found
//
// One table, Descriptors, declares every set Open knows by name: its display name, kind (CIFAR
// file, folder of images, generated noise), role (in-distribution or OOD), where it lies, and
// whether and from what it is built. Names, InNames, OODNames, Layout, SourceDir, Locate, Open
// and Build read it, so adding a set is one entry there (and one in package fetch if it can be
// downloaded). Open(name, opt) knows the names that Names returns:
//
//	cifar10          <data>/cifar-10-batches-bin/test_batch.bin
//	cifar100         <data>/cifar-100-binary/test.bin
//	Imagenet         <data>/Imagenet/test/                          (Tiny-ImageNet, crop)
//	Imagenet_resize  <data>/Imagenet_resize/Imagenet_resize/        (Tiny-ImageNet, resize)
//	LSUN             <data>/LSUN/test/                              (LSUN, crop)
//	LSUN_resize      <data>/LSUN_resize/LSUN_resize/                (LSUN, resize)
//	iSUN             <data>/iSUN/iSUN_patches/
//	Uniform, Gaussian  generated, Options.Count images (10,000 if 0), Options.Seed
//
// a name FolderPrefix+PATH ("folder:PATH") is an ImageNet-style ImageFolder, labelled by its
// sorted class folders and transformed by Options.Transform (OpenImageFolder; a PATH without
// sub-folders is its images, unlabelled), and any other
// name is a folder path (of 32×32 images). The folders are those the seed's archives unpack into,
// so unpacking them into the data folder (or running odin fetch) just works. For the
// Tiny-ImageNet and LSUN sets Open looks, in order, for:
//
//  1. the seed's archive in the data folder, as above (only for the seed construction);
//  2. a set built earlier into the cache, CacheDir: <cache>/<name>-<construction>[-s<seed>]/
//     followed by the layout above (the -s<seed> part only for the cropped sets with Seed ≠ 0);
//  3. if Options.Build is set, a new build into that place from the raw source: the Tiny-ImageNet
//     test images in <data>/tiny-imagenet-200/test/images/ (Imagenet, Imagenet_resize) or a
//     folder <data>/lsun-raw/ of LSUN images of any size that the user provides (LSUN,
//     LSUN_resize).
//
// Otherwise the error (wrapping ErrMissing) says where it looked and names the command that
// builds or fetches the set. iSUN cannot be built: its source is not distributed.
//
// # Constructions
//
// How an OOD set is made from raw images matters to the results. Constructions lists the two
// named ways, and any other combination of filter, antialiasing and format can be given by label
// (ParseConstruction):
//
//	seed   nearest-neighbour resize, not antialiased; JPEG quality 75. With densenet10 the
//	       Imagenet_resize FPR95 comes out near the paper's (about 44% baseline / 9% ODIN in an
//	       independent PyTorch run, against the paper's 40.8% / 7.5%), so this is taken to be how
//	       the seed's archives were made.
//	clean  antialiased bilinear resize; lossless PNG. FPR95 about 59% / 49%: most of ODIN's
//	       published gain on the resized sets rides on the aliasing artefacts of the seed
//	       construction (as later work, e.g. CSI's "FIX" sets, also found).
//
// The cropped sets (Imagenet, LSUN) take the 32×32 window at a random offset drawn from
// (seed, i) for image i; only the format of a construction applies to them.
//
// # Resizing
//
// The resampler is separable, horizontal then vertical, in float64, with PIL's kernels, supports
// and border rule (weights renormalised over the pixels inside the image), and the result is
// rounded half up to 8 bits. Output pixel x samples around source coordinate (x+½)·in/out.
// Antialiased means the kernel is widened by the reduction factor (PIL's resize, torch's
// interpolate with antialias=True); not antialiased means the kernel is used at the source scale
// (torch's interpolate without antialias: for bilinear the results agree exactly, apart from the
// final rounding). PIL itself rounds and clips to 8 bits between its two passes, so it agrees to
// within one level except where bicubic or Lanczos overshoot in the first pass (mostly when
// enlarging). Bicubic uses a = −½ (PIL; torch's non-antialiased bicubic uses −¾, so it is not
// matched). Nearest picks source pixel ⌊(x+½)·in/out⌋ as PIL's NEAREST and torch's
// "nearest-exact" do; for a 2× reduction that is the bottom-right pixel of each 2×2 block, where
// torch's legacy "nearest" takes the top-left one.
//
// # Building
//
// Build writes a set atomically (into a temporary folder renamed into place when complete), in
// parallel, with bytes that depend only on the source, the construction and the seed. Files are
// numbered from 00000 in the natural order of the source file names (test_2 before test_10), so
// that their sorted order is the source order; the seed's evaluation protocol scores images
// 1000–9999 and keeps 0–999 for tuning. JPEG files are written by image/jpeg (baseline, 4:2:0,
// the IJG tables at the given quality, as PIL's default save), which is close to but not
// byte-identical with PIL's encoder.
//
// # Manifests and digests
//
// Build records in MANIFEST.json, beside BUILD.txt, the number of images and their content
// digest: the SHA-256 over every file, in OpenFolder's order, of its '/'-separated relative path,
// a zero byte, its length (8 bytes, little-endian) and its bytes. Locate compares the number of
// files of a built set with the manifest every time (it lists the folder, reading nothing); Open
// also reads every file whole (the sets' files are a few KB, so this costs little more than
// reading their headers) and compares the digest. A set that differs is refused with an error
// wrapping ErrStale, or rebuilt when Options.Build is set. Builds made before manifests existed
// are checked against the count in their BUILD.txt. Every Dataset this package returns has
// ContentDigest (and Digest, with its error): a folder's as above (computed as Open reads the
// files of a seed archive or a built set, on first use for a folder named by path), a CIFAR
// file's SHA-256, and for noise a digest of its kind, size and seed;
// caches of scores can key on it rather than on a set's name. A file over 64 MiB in a set whose
// content is digested is an error.
package dataset
