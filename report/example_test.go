package report_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/odin-ood/odin/metrics"
	"github.com/odin-ood/odin/report"
)

func ExampleWrite() {
	// Two methods scoring the same four in-distribution and three OOD images.
	in := report.Input{
		Title:  "example",
		InName: "CIFAR-10", OutName: "Tiny-ImageNet (crop)",
		Methods: []report.Method{
			{Name: "baseline", In: []float64{0.9, 0.8, 0.6, 0.4}, Out: []float64{0.7, 0.5, 0.3}},
			{Name: "odin", In: []float64{0.95, 0.9, 0.7, 0.6}, Out: []float64{0.65, 0.3, 0.2}},
		},
		Command:   "odin report in.csv out.csv --out report",
		Bootstrap: metrics.BootstrapOptions{Resamples: 100, Seed: 1},
	}
	dir, err := os.MkdirTemp("", "report")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	r, err := report.Write(context.Background(), dir, in)
	if err != nil {
		log.Fatal(err)
	}
	for _, f := range r.Figures {
		fmt.Println(f.Name)
	}
	fmt.Println(r.Methods[1].CI.Percent().FPR95)
	_, err = os.Stat(filepath.Join(dir, "index.html"))
	fmt.Println(err == nil)
	// Output:
	// headline
	// compare
	// roc
	// pr-in
	// pr-out
	// hist-baseline
	// hist-odin
	// 33.3 [0.0, 66.7]
	// true
}
