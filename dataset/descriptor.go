package dataset

import (
	"fmt"
	"path/filepath"
	"strings"
)

// Kind says how a known set is stored.
type Kind int

const (
	// KindCIFAR is a CIFAR binary test file below the data folder.
	KindCIFAR Kind = iota + 1
	// KindFolder is a folder of 32×32 images: the seed's archive unpacked below the data folder,
	// or for buildable sets a build in the cache.
	KindFolder
	// KindNoise is generated (Uniform, Gaussian).
	KindNoise
)

// Role says what a set is for in an evaluation.
type Role int

const (
	// RoleIn is an in-distribution test set: a network's training distribution.
	RoleIn Role = iota + 1
	// RoleOut is an out-of-distribution set.
	RoleOut
)

// Descriptor describes a set Open knows by name. The table of them, Descriptors, is the one
// place a set is declared: Names, Layout, SourceDir, Locate, Open and Build read it.
type Descriptor struct {
	// Name is the name Open takes, e.g. "Imagenet_resize".
	Name string
	// Display names the set in reports, e.g. "Tiny-ImageNet (resize)".
	Display string
	Kind    Kind
	Role    Role
	// Path is where the set lies below the data folder, '/'-separated: the CIFAR file
	// (KindCIFAR) or the folder the seed's archive unpacks into (KindFolder), which builds in
	// the cache reproduce below their own folder.
	Path string
	// Labels is the number of classes of a CIFAR set, 0 otherwise.
	Labels int
	// Source is the folder of raw images below the data folder that the set is built from, ""
	// if it cannot be built.
	Source string
	// Crop is true for sets built by cropping a 32×32 window, false for those built by resizing.
	Crop bool
	// Fetch is true if the set (or its source) can be downloaded: see package fetch.
	Fetch bool
	// About says, for users, where the images come from.
	About string
}

// descriptors is the table, in the order reports list the sets.
var descriptors = []Descriptor{
	{Name: "cifar10", Display: "CIFAR-10", Kind: KindCIFAR, Role: RoleIn, Path: "cifar-10-batches-bin/test_batch.bin", Labels: 10, Fetch: true,
		About: "the CIFAR-10 test set (10,000 images)"},
	{Name: "cifar100", Display: "CIFAR-100", Kind: KindCIFAR, Role: RoleIn, Path: "cifar-100-binary/test.bin", Labels: 100, Fetch: true,
		About: "the CIFAR-100 test set (10,000 images)"},
	{Name: "Imagenet", Display: "Tiny-ImageNet (crop)", Kind: KindFolder, Role: RoleOut, Path: "Imagenet/test",
		Source: "tiny-imagenet-200/test/images", Crop: true, Fetch: true, About: "random 32×32 crops of the Tiny-ImageNet test images"},
	{Name: "Imagenet_resize", Display: "Tiny-ImageNet (resize)", Kind: KindFolder, Role: RoleOut, Path: "Imagenet_resize/Imagenet_resize",
		Source: "tiny-imagenet-200/test/images", Fetch: true, About: "the Tiny-ImageNet test images resized to 32×32"},
	{Name: "LSUN", Display: "LSUN (crop)", Kind: KindFolder, Role: RoleOut, Path: "LSUN/test",
		Source: "lsun-raw", Crop: true, Fetch: true, About: "random 32×32 crops of LSUN test images"},
	{Name: "LSUN_resize", Display: "LSUN (resize)", Kind: KindFolder, Role: RoleOut, Path: "LSUN_resize/LSUN_resize",
		Source: "lsun-raw", Fetch: true, About: "LSUN test images resized to 32×32"},
	{Name: "iSUN", Display: "iSUN", Kind: KindFolder, Role: RoleOut, Path: "iSUN/iSUN_patches", Fetch: true,
		About: "the iSUN patches of the seed's archive (its source is not distributed)"},
	{Name: "Uniform", Display: "Uniform", Kind: KindNoise, Role: RoleOut, About: "uniform noise in [0, 1)"},
	{Name: "Gaussian", Display: "Gaussian", Kind: KindNoise, Role: RoleOut, About: "Gaussian noise N(0.5, 1) clamped to [0, 1]"},
}

// Descriptors returns the sets Open knows, in the order reports list them.
func Descriptors() []Descriptor {
	return append([]Descriptor(nil), descriptors...)
}

// Lookup returns the descriptor of the named set.
func Lookup(name string) (Descriptor, bool) {
	for _, d := range descriptors {
		if d.Name == name {
			return d, true
		}
	}
	return Descriptor{}, false
}

// Buildable reports whether the set can be built from raw images.
func (d Descriptor) Buildable() bool { return d.Source != "" }

// names lists the names of the descriptors that keep says to.
func names(keep func(Descriptor) bool) []string {
	var s []string
	for _, d := range descriptors {
		if keep(d) {
			s = append(s, d.Name)
		}
	}
	return s
}

// Names returns the names Open knows, in the order reports list them.
func Names() []string { return names(func(Descriptor) bool { return true }) }

// InNames returns the names of the in-distribution sets.
func InNames() []string { return names(func(d Descriptor) bool { return d.Role == RoleIn }) }

// OODNames returns the names of the out-of-distribution sets.
func OODNames() []string { return names(func(d Descriptor) bool { return d.Role == RoleOut }) }

// BuildableNames returns the names of the sets Build makes.
func BuildableNames() []string { return names(Descriptor.Buildable) }

// Layout returns the folder of images, '/'-separated and relative to the data folder, in which
// the seed's archive of the named OOD set unpacks, e.g. "Imagenet_resize/Imagenet_resize". Built
// sets use the same layout below their cache folder.
func Layout(name string) (string, bool) {
	d, ok := Lookup(name)
	if !ok || d.Kind != KindFolder {
		return "", false
	}
	return d.Path, true
}

// SourceDir returns the folder of raw images that the named set is built from, inside data:
// tiny-imagenet-200/test/images (the 10,000 Tiny-ImageNet test JPEGs) for Imagenet and
// Imagenet_resize, lsun-raw (a folder of LSUN images of any size, at any depth, that the user
// provides) for LSUN and LSUN_resize.
func SourceDir(name, data string) (string, error) {
	d, ok := Lookup(name)
	if !ok || !d.Buildable() {
		return "", errNotBuildable(name)
	}
	return filepath.Join(data, filepath.FromSlash(d.Source)), nil
}

func errNotBuildable(name string) error {
	return fmt.Errorf("%s: cannot be built (buildable: %s)", name, strings.Join(BuildableNames(), ", "))
}

// buildable reports whether the named set can be built and whether it is made by cropping.
func buildable(name string) (crop, ok bool) {
	d, ok := Lookup(name)
	return d.Crop, ok && d.Buildable()
}
