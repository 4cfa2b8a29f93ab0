package serve

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/odin-ood/odin/experiment"
	"github.com/odin-ood/odin/models"
)

// ModelConfig describes one served model. In a --models folder it is one JSON file per model
// (see LoadConfigs); relative paths in it are relative to that file's folder.
type ModelConfig struct {
	// Name is the model's name in URLs (/v2/models/NAME); letters, digits, '.', '_' and '-'.
	Name string `json:"name"`
	// Checkpoint is the network's checkpoint file (.pth, .th, .safetensors); Arch forces its
	// architecture ("" infers it). ONNX names an ONNX file instead, when the build has an
	// ONNX loader (see Loader); a Checkpoint ending in .onnx is taken as ONNX.
	Checkpoint string `json:"checkpoint,omitempty"`
	Arch       string `json:"arch,omitempty"`
	ONNX       string `json:"onnx,omitempty"`
	// Features and InputShape apply to ONNX models only (see ONNXOptions): the node or value
	// whose output the fitted detectors read, as given to odin fit --features, and the input's
	// C, H, W where the file leaves them symbolic.
	Features   string `json:"features,omitempty"`
	InputShape []int  `json:"input_shape,omitempty"`
	// Threshold is the `odin calibrate` file: ODIN's T, ε and δ. It must have been calibrated
	// on this checkpoint (its SHA-256 is checked).
	Threshold string `json:"threshold"`
	// Methods lists extra detectors scored beside ODIN, e.g. "msp,energy"; each adds an output
	// score_<method>. Stats is the `odin fit` file the fitted ones need.
	Methods string `json:"methods,omitempty"`
	Stats   string `json:"stats,omitempty"`
	// Preprocess, if set, is how encoded images (BYTES, /v1/score) become the network's input,
	// as torchvision's Resize, CenterCrop, ToTensor and Normalize do (see models.Preprocess; in
	// JSON an object such as {"resize": 256, "crop": 224}, read by models.ParsePreprocess, so
	// that missing mean, std, scale and interpolation take ImageNet's values). Its mean, std and
	// scale also normalise the "pixels" input. Given in Go, a nil Mean or Std keeps the network's
	// own and Scale 0 is 1/255 (as experiment.LoadOptions). A missing crop is the network's side
	// (a square network), and a missing resize then that side too.
	Preprocess *models.Preprocess `json:"preprocess,omitempty"`
	// Resize says how encoded images that are not 32×32 are resized for a 32×32 network without
	// Preprocess: nearest, box, bilinear, bicubic or lanczos ("" refuses them); Antialias widens
	// the kernel when shrinking, as PIL's resize does. A network of another size without
	// Preprocess has its images resized (shorter side, bilinear) and centre-cropped to its side.
	Resize    string `json:"resize,omitempty"`
	Antialias bool   `json:"antialias,omitempty"`
	// Batching. MaxBatch images per micro-batch (default 8), MaxQueueDelay how long the first
	// request of a micro-batch waits for others (default 1ms), Queue the requests that may wait
	// (default 256), Workers the micro-batches computed at once (default GOMAXPROCS).
	MaxBatch      int      `json:"max_batch,omitempty"`
	MaxQueueDelay Duration `json:"max_queue_delay,omitempty"`
	Queue         int      `json:"queue,omitempty"`
	Workers       int      `json:"workers,omitempty"`
	// MaxQueueBytes bounds the memory of the images a model holds, from the moment a request's
	// images are decoded until it is answered: 4·C·H·W bytes per image (default 256 MiB, about
	// 21,800 CIFAR images or 445 at 3×224×224). A request that would pass it gets 429, one that
	// could never fit 413. Queue alone counts requests, whatever their images' size.
	MaxQueueBytes int64 `json:"max_queue_bytes,omitempty"`
	// SelfTestScore, if set, is the ODIN score the server's self-test image must get (bit for
	// bit) before the model is ready; see SelfTestImage.
	SelfTestScore *float64 `json:"selftest_score,omitempty"`
}

// Duration is a time.Duration written in JSON as a string such as "2ms".
type Duration time.Duration

func (d Duration) String() string { return time.Duration(d).String() }

func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration: want a string such as \"2ms\", got %s", b)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	if v < 0 {
		return fmt.Errorf("duration %s is negative", s)
	}
	*d = Duration(v)
	return nil
}

var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// check reports a configuration that cannot be served.
func (c *ModelConfig) check() error {
	switch {
	case !validName.MatchString(c.Name):
		return fmt.Errorf("model name %q: want letters, digits, '.', '_' or '-' (at most 128)", c.Name)
	case (c.Checkpoint == "") == (c.ONNX == ""):
		return fmt.Errorf("model %s: give exactly one of checkpoint and onnx", c.Name)
	case c.Threshold == "":
		return fmt.Errorf("model %s: no threshold file", c.Name)
	case c.MaxBatch < 0 || c.Queue < 0 || c.Workers < 0 || c.MaxQueueBytes < 0:
		return fmt.Errorf("model %s: max_batch, queue, workers and max_queue_bytes must not be negative", c.Name)
	case len(c.InputShape) != 0 && (len(c.InputShape) != 3 || slices.Min(c.InputShape) <= 0):
		return fmt.Errorf("model %s: input_shape %v: want [C, H, W], each positive", c.Name, c.InputShape)
	}
	if c.Preprocess != nil {
		if err := experiment.CompletePreprocess(*c.Preprocess, [3]float32{}, [3]float32{1, 1, 1}).Check(); err != nil {
			return fmt.Errorf("model %s: %w", c.Name, err)
		}
	}
	return nil
}

// resolve makes the config's relative paths relative to dir.
func (c *ModelConfig) resolve(dir string) {
	for _, p := range []*string{&c.Checkpoint, &c.ONNX, &c.Threshold, &c.Stats} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
}

// ParseConfig reads one model's configuration; name is used in errors, and relative paths are
// taken relative to dir. Unknown fields are refused.
func ParseConfig(data []byte, name, dir string) (ModelConfig, error) {
	// preprocess is read by models.ParsePreprocess, which gives missing fields their defaults.
	var aux struct {
		ModelConfig
		Preprocess json.RawMessage `json:"preprocess"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&aux); err != nil {
		return aux.ModelConfig, fmt.Errorf("%s: %v", name, err)
	}
	c := aux.ModelConfig
	if len(aux.Preprocess) > 0 && !bytes.Equal(bytes.TrimSpace(aux.Preprocess), []byte("null")) {
		p, err := models.ParsePreprocess(aux.Preprocess)
		if err != nil {
			return c, fmt.Errorf("%s: %v", name, err)
		}
		c.Preprocess = &p
	}
	if err := c.check(); err != nil {
		return c, fmt.Errorf("%s: %v", name, err)
	}
	c.resolve(dir)
	return c, nil
}

// LoadConfigs reads every *.json file of dir as a ModelConfig, in name order. Two models with
// one name, or a folder without any, are errors.
func LoadConfigs(dir string) ([]ModelConfig, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: no model configuration (*.json)", dir)
	}
	var out []ModelConfig
	seen := map[string]string{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		c, err := ParseConfig(data, f, dir)
		if err != nil {
			return nil, err
		}
		if prev, ok := seen[c.Name]; ok {
			return nil, fmt.Errorf("model %s is configured twice: %s and %s", c.Name, filepath.Base(prev), filepath.Base(f))
		}
		seen[c.Name] = f
		out = append(out, c)
	}
	return out, nil
}

// errNoONNX is returned for an ONNX model when no ONNX loader is configured.
var errNoONNX = errors.New("this server has no ONNX loader")

func joinQuoted(s []string) string {
	q := make([]string, len(s))
	for i, v := range s {
		q[i] = fmt.Sprintf("%q", v)
	}
	return strings.Join(q, ", ")
}
