// Package datadir finds the folders odin reads data from and writes derived data to.
//
// Data (read-only inputs: CIFAR binaries, image folders, checkpoints under models/) is looked up in
// this order: an explicit directory (the --data flag), $ODIN_DATA, then ./data.
// The cache (derived data such as rebuilt OOD sets) is: an explicit directory (--cache), $ODIN_CACHE,
// then the user cache directory joined with "odin".
package datadir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Data returns the data directory chosen by flag, $ODIN_DATA or ./data, and a description of where
// it looked, for error messages. It does not check that the directory exists.
func Data(flag string) string {
	if flag != "" {
		return flag
	}
	if env := os.Getenv("ODIN_DATA"); env != "" {
		return env
	}
	return "data"
}

// Cache returns the cache directory chosen by flag, $ODIN_CACHE or the user cache directory.
func Cache(flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	if env := os.Getenv("ODIN_CACHE"); env != "" {
		return env, nil
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory: set --cache or $ODIN_CACHE (%v)", err)
	}
	return filepath.Join(dir, "odin"), nil
}

// ModuleRoot walks up from the working directory to the folder holding go.mod.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}

// Shared returns the project's shared development data: $ODIN_DATA if set, else ../shared/data
// beside the module root. It returns an error if that folder does not exist.
func Shared() (string, error) {
	dir := os.Getenv("ODIN_DATA")
	if dir == "" {
		root, err := ModuleRoot()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(root, "..", "shared", "data")
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return "", fmt.Errorf("shared data not found at %s (set ODIN_DATA)", dir)
	}
	return dir, nil
}
