package dataset

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// ErrStale is wrapped by the errors of Locate and Open for a built set that is no longer what
// was built: its images are not as many as its manifest records, or their content digest
// differs. With Options.Build, Open rebuilds it instead.
var ErrStale = errors.New("changed since it was built")

// manifestName is the file beside BUILD.txt in which Build records the set it wrote.
const manifestName = "MANIFEST.json"

// maxImageFile bounds the size of one file that a digest reads whole. The sets' 32×32 images
// take a few KB; anything larger in a built set is not what Build wrote.
const maxImageFile = 64 << 20

// manifest is what Build records about a set: how many images, and their content digest (see
// digestFiles). Builds made before manifests existed have only the count, from BUILD.txt.
type manifest struct {
	Images int    `json:"images"`
	SHA256 string `json:"sha256,omitempty"`
}

// newDigest returns the hash a folder's content digest is computed with: for each file, in the
// order OpenFolder lists them, its '/'-separated path relative to the folder, a zero byte, its
// length as 8 little-endian bytes and its bytes.
func newDigest() hash.Hash { return sha256.New() }

func addFile(h hash.Hash, rel string, data []byte) {
	h.Write([]byte(rel))
	h.Write([]byte{0})
	h.Write(binary.LittleEndian.AppendUint64(nil, uint64(len(data))))
	h.Write(data)
}

// readImageFile reads a file of a set whole, refusing one larger than maxImageFile.
func readImageFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxImageFile+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if len(data) > maxImageFile {
		return nil, fmt.Errorf("%s: larger than %d MiB", path, maxImageFile>>20)
	}
	return data, nil
}

// digestFiles computes the content digest of the named files of dir (sorted as OpenFolder sorts).
func digestFiles(dir string, files []string) (string, error) {
	files = slices.Clone(files)
	slices.Sort(files)
	h := newDigest()
	for _, rel := range files {
		data, err := readImageFile(filepath.Join(dir, filepath.FromSlash(rel)))
		if err != nil {
			return "", err
		}
		addFile(h, rel, data)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// writeManifest records the images of imgDir in top/MANIFEST.json.
func writeManifest(top, imgDir string) error {
	files, err := listFiles(imgDir)
	if err != nil {
		return err
	}
	sum, err := digestFiles(imgDir, files)
	if err != nil {
		return err
	}
	b, _ := json.Marshal(manifest{Images: len(files), SHA256: sum})
	return os.WriteFile(filepath.Join(top, manifestName), append(b, '\n'), 0o644)
}

// buildCount finds the image count in BUILD.txt: "source: <folder> (<n> images, natural order)".
var buildCount = regexp.MustCompile(`(?m)^source: .* \((\d+) images, natural order\)$`)

// readManifest reads the manifest of the set built into top, or for builds older than manifests
// the count its BUILD.txt records.
func readManifest(top string) (manifest, error) {
	var m manifest
	b, err := os.ReadFile(filepath.Join(top, manifestName))
	if err == nil {
		if err := json.Unmarshal(b, &m); err != nil || m.Images < 1 || (m.SHA256 != "" && len(m.SHA256) != 64) {
			return manifest{}, fmt.Errorf("%s: corrupt manifest", filepath.Join(top, manifestName))
		}
		return m, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return manifest{}, err
	}
	b, err = os.ReadFile(filepath.Join(top, "BUILD.txt"))
	if err != nil {
		return manifest{}, fmt.Errorf("%s: %w: no record of its build (%s or BUILD.txt)", top, ErrStale, manifestName)
	}
	sub := buildCount.FindSubmatch(b)
	if sub == nil {
		return manifest{}, fmt.Errorf("%s: %w: BUILD.txt records no image count", top, ErrStale)
	}
	m.Images, err = strconv.Atoi(string(sub[1]))
	if err != nil || m.Images < 1 {
		return manifest{}, fmt.Errorf("%s: %w: BUILD.txt records no image count", top, ErrStale)
	}
	return m, nil
}

// builtTop is the folder of a built set that holds BUILD.txt and the manifest: imgDir without
// the layout's inner folders (Imagenet_resize/Imagenet_resize/ → Imagenet_resize/).
func builtTop(imgDir string) string {
	top := imgDir
	for {
		if _, err := os.Stat(filepath.Join(top, "BUILD.txt")); err == nil {
			return top
		}
		if _, err := os.Stat(filepath.Join(top, manifestName)); err == nil {
			return top
		}
		up := filepath.Dir(top)
		if up == top || strings.Count(imgDir, string(filepath.Separator))-strings.Count(up, string(filepath.Separator)) > 2 {
			return filepath.Dir(imgDir)
		}
		top = up
	}
}

// checkCount compares the number of files of a built set with its manifest, without reading
// them: the check Locate makes every time.
func checkCount(imgDir string) (manifest, error) {
	m, err := readManifest(builtTop(imgDir))
	if err != nil {
		return manifest{}, err
	}
	files, err := listFiles(imgDir)
	if err != nil {
		return manifest{}, err
	}
	if len(files) != m.Images {
		return manifest{}, fmt.Errorf("%w: %s holds %d images, %d were built", ErrStale, imgDir, len(files), m.Images)
	}
	return m, nil
}

// CheckBuilt checks the folder of images of a built set (as Locate returns it) against the count
// its manifest records, without reading the images, and returns the count. A set that differs
// is an error wrapping ErrStale.
func CheckBuilt(imgDir string) (int, error) {
	m, err := checkCount(imgDir)
	return m.Images, err
}

// openBuilt opens a built set and checks it against its manifest: the count, and the content
// digest, which costs little more than OpenFolder's reading of every file's header since the
// sets' files are a few KB.
func openBuilt(imgDir string, opt FolderOptions) (*Folder, error) {
	m, err := checkCount(imgDir)
	if err != nil {
		return nil, err
	}
	f, err := openFolder(imgDir, opt, m.SHA256 != "")
	if err != nil {
		return nil, err
	}
	if m.SHA256 != "" && f.digest != m.SHA256 {
		return nil, fmt.Errorf("%w: the content of %s differs from what was built (SHA-256 %.12s…, built %.12s…)", ErrStale, imgDir, f.digest, m.SHA256)
	}
	return f, nil
}

// Digest returns the SHA-256 content digest of the folder's files (see newDigest), reading them
// all the first time unless the folder was opened as a built set, which checked it already.
func (f *Folder) Digest() (string, error) {
	f.digestMu.Lock()
	defer f.digestMu.Unlock()
	if f.digest != "" {
		return f.digest, nil
	}
	all := slices.Clone(f.files)
	for _, s := range f.skipped {
		if rel, err := filepath.Rel(f.dir, s.Path); err == nil {
			all = append(all, filepath.ToSlash(rel))
		}
	}
	d, err := digestFiles(f.dir, all)
	if err != nil {
		return "", fmt.Errorf("folder %s: digest: %w", f.dir, err)
	}
	f.digest = d
	return d, nil
}

// ContentDigest is Digest, or "" if the files could not be read.
func (f *Folder) ContentDigest() string {
	d, _ := f.Digest()
	return d
}

// Digest returns the SHA-256 of the CIFAR file's bytes.
func (c *CIFAR) Digest() (string, error) {
	s := sha256.Sum256(c.data)
	return hex.EncodeToString(s[:]), nil
}

// ContentDigest is Digest.
func (c *CIFAR) ContentDigest() string {
	d, _ := c.Digest()
	return d
}

// Digest identifies a noise set's content: the SHA-256 of its kind, size and seed, which
// determine every image.
func (s *Noise) Digest() (string, error) {
	sum := sha256.Sum256(fmt.Appendf(nil, "odin noise %s n=%d seed=%d", s.name, s.n, s.seed))
	return hex.EncodeToString(sum[:]), nil
}

// ContentDigest is Digest.
func (s *Noise) ContentDigest() string {
	d, _ := s.Digest()
	return d
}

// Digest returns the SHA-256 over the transform and, for each image in order, its path
// relative to the root (which names its class), length and bytes. It reads every image each
// time it is called: ImageFolder sets are large, so callers keep the result.
func (f *ImageFolder) Digest() (string, error) {
	h := newDigest()
	fmt.Fprintf(h, "odin image folder resize=%d crop=%d filter=%d\n", f.t.Resize, f.t.Crop, f.t.Filter)
	for _, p := range f.files {
		data, err := readImageFile(p)
		if err != nil {
			return "", fmt.Errorf("image folder %s: digest: %w", f.root, err)
		}
		rel, err := filepath.Rel(f.root, p)
		if err != nil {
			rel = p
		}
		addFile(h, filepath.ToSlash(rel), data)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// ContentDigest is Digest, or "" if an image could not be read.
func (f *ImageFolder) ContentDigest() string {
	d, _ := f.Digest()
	return d
}
