package experiment

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/odin-ood/odin/dataset"
	"github.com/odin-ood/odin/internal/gemm"
)

// ScoreIdentity names everything a cached score depends on. Two scores may be exchanged only when
// their identities are equal: the cache keeps scores in a folder named by Dir, and a folder whose
// recorded identity (run.json) differs is refused, never mixed.
type ScoreIdentity struct {
	Network    string // the architecture's name, for people reading run.json
	Checkpoint string // "sha256:<hex>" of the checkpoint file (decision.Digest)
	// Kernel is the matrix-product kernel in use (gemm.Kernel): kernels round differently, so
	// their scores differ in the last bits.
	Kernel string
	// Arithmetic names the engine's newer algorithms that the network runs (nn.Graph.Arithmetic),
	// which round differently from older builds; recorded only when not "", so that the scores
	// of networks without them keep their folders.
	Arithmetic             string
	Temperature, Magnitude float64
	Methods                []string // the detectors, in column order
	Stats                  string   // the fitted statistics' content checksum, "" when none are used
	// Preprocess is the preprocessing given in place of the network's own (its JSON), "" for
	// none; Features the ONNX feature tap given, "" for the default. Both are recorded only
	// when set, so that the scores of networks without them keep their folders.
	Preprocess, Features string
	Images               Images
}

// Images identifies the images of a range.
type Images struct {
	Set    string // the name it was opened by: "cifar10", "Imagenet", a folder
	Source string // the set's own name (dataset.Dataset.Name): tells a seed archive from a built copy
	// Digest is the content digest of the set recorded at build time (its manifest), "" for a set
	// that has none.
	Digest       string
	Construction string // how a built set was made ("seed", "clean"); "" for sets never built
	Seed         uint64 // seed of generated sets and built crops
	First, Count int
}

// Map returns the identity as the key–value pairs run.json records.
func (id ScoreIdentity) Map() map[string]string {
	m := map[string]string{
		"network": id.Network, "checkpoint": id.Checkpoint, "kernel": id.Kernel,
		"temperature": fmtFloat(id.Temperature), "magnitude": fmtFloat(id.Magnitude),
		"methods": strings.Join(id.Methods, ","), "stats": id.Stats,
	}
	if id.Preprocess != "" {
		m["preprocess"] = id.Preprocess
	}
	if id.Features != "" {
		m["features"] = id.Features
	}
	if id.Arithmetic != "" {
		m["arithmetic"] = id.Arithmetic
	}
	maps.Copy(m, id.Images.Map(""))
	return m
}

// Dir names the cache folder of scores with this identity: a hash of Map.
func (id ScoreIdentity) Dir() string { return IdentityDir(id.Map()) }

// Map returns the images' identity with each key prefixed.
func (im Images) Map(prefix string) map[string]string {
	return map[string]string{
		prefix + "set": im.Set, prefix + "source": im.Source, prefix + "digest": im.Digest,
		prefix + "construction": im.Construction, prefix + "seed": strconv.FormatUint(im.Seed, 10),
		prefix + "first": strconv.Itoa(im.First), prefix + "count": strconv.Itoa(im.Count),
	}
}

// ImagesOf identifies images First … First+Count−1 of r, opened by the name set with the given
// construction and seed. The content digest comes from the set when it has one (SetDigest).
func ImagesOf(r Range, set, construction string, seed uint64) Images {
	return Images{Set: set, Source: r.Data.Name(), Digest: SetDigest(r.Data), Construction: construction,
		Seed: seed, First: r.First, Count: r.Count}
}

// digester is implemented by sets that know a digest of their contents (built sets, from their
// manifest).
type digester interface{ ContentDigest() string }

// SetDigest returns the content digest a set records (a built set's manifest), or "".
func SetDigest(ds dataset.Dataset) string {
	if d, ok := ds.(digester); ok {
		return d.ContentDigest()
	}
	return ""
}

// CurrentKernel is the kernel name that identities record: gemm.Kernel.
func CurrentKernel() string { return gemm.Kernel() }

// IdentityDir names a folder for scores of the given identity: a hash of its sorted entries.
func IdentityDir(id map[string]string) string {
	h := sha256.New()
	for _, k := range slices.Sorted(maps.Keys(id)) {
		fmt.Fprintf(h, "%s=%s\n", k, id[k])
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func fmtFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
