// Package collection scores arbitrary collections of images, outside the paper's protocol: the
// images of a folder, of a list of paths or URLs, or of a glob, split into shards that separate
// machines score independently, each shard kept in a score file that an interrupted run resumes,
// and the shards merged back into one file.
//
// # Inputs
//
// List turns arguments into input paths, in this order and each kept exactly as written (the
// path string is an image's key: it names the image in score files and decides its shard):
//
//   - a folder: every .png, .jpg and .jpeg file below it at any depth (extensions compared
//     without case; names starting with '.' ignored, symbolic links to folders not followed), as
//     filepath.Join(folder, relative path), sorted by the '/'-separated relative path;
//   - a glob (an argument with *, ? or [ that names no existing file): filepath.Glob's matches that
//     are regular files, sorted;
//   - a file whose first bytes are a PNG or JPEG signature: that image;
//   - any other file: a list, one path or http(s):// URL per line; blank lines and lines starting
//     with '#' are skipped, surrounding spaces trimmed. Relative paths are relative to the working
//     directory, as they would be on the command line.
//
// An input listed twice is an error: a path is its image's identity.
//
// # Shards
//
// Shard{I, N} holds the images whose path p has ⌊FNV-1a-64(p)·N / 2⁶⁴⌋ = I: the 64-bit FNV-1a
// hash of the path's bytes (hash/fnv's New64a) scaled to [0, N) by its high bits (in Python,
// (h * N) >> 64). The split depends on the path alone, not on the order or number of other
// inputs, so every machine of a job computes it independently and the same image always falls in
// the same shard.
//
// # Score files
//
// A score file starts with one metadata line, then one row per image, in one of two formats:
//
//	CSV:   # odin-score {"format":1,"network":…,"checkpoint":"sha256:…",…,"shard":"2/4","count":517,"total":2000}
//	       path,baseline,odin,class,error
//	       imgs/a.png,0.93314599990844727,0.10089027881622314,3,
//	JSONL: {"odin_score":{…the same metadata…}}
//	       {"path":"imgs/a.png","scores":{"baseline":0.93314599990844727,"odin":0.10089027881622314},"class":3}
//
// The metadata (Meta) identifies the run: the network and the SHA-256 of its checkpoint, the
// kernel, the detectors and their parameters, the threshold, the shard, the number of images in
// the shard (Count) and in the whole collection (Total). Scores are written with
// strconv.FormatFloat(v, 'g', -1, 64), so they read back to the same float64. class is the
// predicted class (the index of the largest logit). With a threshold a decision column says "in"
// (ODIN score ≥ δ) or "out". An image that cannot be read or decoded gets a row with empty scores
// and the reason in error (JSONL: an "error" member): the run goes on, the row counts as done.
// CSV fields are quoted as encoding/csv does when a path needs it.
//
// # Resuming
//
// Job.Run appends to an existing file with the same metadata, after dropping a last line cut
// short by a crash, and scores only the images that have no row yet; rows are flushed after every
// micro-batch, so an interruption (Ctrl-C, a killed pod) loses at most the micro-batches in
// flight. A file with other metadata is refused, never mixed.
//
// # Merging
//
// Merge reads the shard files of one job and refuses, each with a one-line error: shards of
// different runs (metadata other than the shard differs), a shard missing or given twice, an
// incomplete shard (fewer rows than its Count), an image in two shards or twice in one, and an
// image in the wrong shard. The merged file has the shards' metadata without a shard, Count =
// Total, and the rows sorted by path (byte order): merging is deterministic, and for a folder
// equals the unsharded run's file byte for byte.
//
// # Running
//
// Config states a run as a user does (network, detectors, parameters, threshold) and Load makes
// the Scorer and the score files' Meta from it, so that odin score and the Beam pipeline
// (module github.com/odin-ood/odin/beam) write the same files. A Scorer reads through a Reader
// (Fetcher: local files, and http(s) URLs with a time limit and a size bound), decodes each image
// to the network's input size, and scores micro-batches on a worker pool; its scores do not
// depend on the worker count, the batch size or which images share a batch. Job runs one shard
// into a score file.
//
// # Any input size
//
// With a preprocessing (Config.Preprocess, a models.Preprocess: resize of the shorter side,
// centre crop, mean, std, scale) images of any size are brought to the network's H×W as
// torchvision's Resize and CenterCrop do (dataset.DecodeTransformed, PIL-exact) and normalised
// with its mean and std; an image that does not come out at H×W gets a row with the reason.
// Without one, a 32×32 network decodes with dataset.DecodeImage (Resize brings other sizes to
// 32×32, as before), and another network has its images resized and cropped to its side
// (experiment.Network.Transform). The metadata's Params hold the complete preprocessing
// ("preprocess") and the transform ("transform"), so a file is never resumed, nor shards merged,
// across different preprocessing. Fitted statistics (StatsPath) must have been fitted with the
// same preprocessing and feature tap (Config.Features); Load refuses others
// (ood.ErrOtherPreprocess, ood.ErrOtherFeatures).
//
// # Exact metrics from pieces
//
// Histogram is a mergeable summary of labelled scores that loses nothing the five metrics need:
// the distinct score values (by bits) with their in-distribution and OOD counts. Merged in any
// order, it gives package metrics' results on all the scores exactly.
//
// # Shards of odin eval
//
// An evaluation is split by index instead: IndexShard is the part of a range whose indices k
// have k mod N = I, a dataset.Dataset of its own; NewShardEval makes the Eval of one shard and
// records the shard in its score folder's identity, and MergeEval joins the shards' folders into
// the folder the unsharded evaluation writes.
package collection
