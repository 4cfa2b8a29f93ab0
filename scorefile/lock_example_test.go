package scorefile_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/odin-ood/odin/scorefile"
)

// Two runs sharing a score folder: the first holds the file until it closes it, and the second
// is refused at once instead of interleaving its rows.
func ExampleErrBusy() {
	dir, _ := os.MkdirTemp("", "scores")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "out.csv")

	first, err := scorefile.Append(path, []string{"odin"})
	if err != nil {
		fmt.Println(err)
		return
	}
	_, err = scorefile.Append(path, []string{"odin"})
	fmt.Println(errors.Is(err, scorefile.ErrBusy))
	first.Write(0, []float64{0.5})
	first.Close()

	second, err := scorefile.Append(path, []string{"odin"})
	fmt.Println(err, second.Has(0))
	second.Close()
	// Output:
	// true
	// <nil> true
}
