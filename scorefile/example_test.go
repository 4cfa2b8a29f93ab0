package scorefile_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/odin-ood/odin/scorefile"
)

// Scores are written as they are computed and read back as columns; a run that was interrupted
// reopens its file with Append and goes on after the last complete row.
func Example() {
	dir, err := os.MkdirTemp("", "scorefile-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "in.csv")

	w, err := scorefile.Create(path, []string{"baseline", "odin"})
	if err != nil {
		log.Fatal(err)
	}
	for i, row := range [][]float64{{0.91, 0.1012}, {0.55, 0.1003}} {
		if err := w.Write(1000+i, row); err != nil {
			log.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}

	f, err := scorefile.Read(path)
	if err != nil {
		log.Fatal(err)
	}
	odin, err := f.Column("odin")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(f.Columns, f.Index, odin)
	// Output: [baseline odin] [1000 1001] [0.1012 0.1003]
}
