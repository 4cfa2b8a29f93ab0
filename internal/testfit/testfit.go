// Package testfit fits detector statistics for the tests of the packages that read them
// (collection, serve, the Beam pipeline and odin-beam): what odin fit does, in one call that
// fails the test on any error. Only tests import it.
package testfit

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/odin-ood/odin/dataset"
	"github.com/odin-ood/odin/experiment"
)

// Stats fits "react" statistics on the images of folder dir (every one of them, batch images at
// a time on one worker) with net, as loaded (its preprocessing and feature tap are recorded),
// saves them in a new temporary folder and returns the file's path.
func Stats(t testing.TB, net *experiment.Network, dir string, batch int) string {
	t.Helper()
	ctx := context.Background()
	train, err := experiment.OpenSet(ctx, net, dataset.FolderPrefix+dir, dataset.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st, _, err := experiment.FitStats(ctx, net, train, train.Len(), []string{"react"}, experiment.FitOptions{Workers: 1, Batch: batch})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "react.stats")
	if err := st.Save(path); err != nil {
		t.Fatal(err)
	}
	return path
}
