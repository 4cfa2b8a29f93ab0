package experiment_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/odin-ood/odin/dataset"
	"github.com/odin-ood/odin/experiment"
	"github.com/odin-ood/odin/metrics"
	"github.com/odin-ood/odin/models"
)

// NewEval assembles what odin eval runs: detectors, two ranges of images and the score cache,
// keyed by an identity of everything the scores depend on.
func ExampleNewEval() {
	m, err := models.Load("../models/testdata/densenet-22-4.pth", "")
	if err != nil {
		log.Fatal(err)
	}
	cache, err := os.MkdirTemp("", "odin-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(cache)
	// experiment.LoadNetwork fills a Network from a checkpoint file; here the model is at hand.
	net := &experiment.Network{Model: m, NN: "densenet-22-4", Checkpoint: "sha256:7a36166d", InSet: "Gaussian"}
	in, err := experiment.NewRange(dataset.Gaussian(100, 1), 80, 0) // images 80–99
	if err != nil {
		log.Fatal(err)
	}
	out, err := experiment.NewRange(dataset.Uniform(100, 2), 80, 0)
	if err != nil {
		log.Fatal(err)
	}
	for run := range 2 {
		ev, err := experiment.NewEval(experiment.Setup{Net: net, Methods: "msp,odin,energy", Temperature: 1000,
			Magnitude: 0.0014, In: in, Out: out, InSet: "Gaussian", OutSet: "Uniform", Workers: 2, Batch: 4, Cache: cache})
		if err != nil {
			log.Fatal(err)
		}
		o, err := ev.Run(context.Background())
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("run %d: %v, %d + %d images, %d scores read back from the cache\n", run, o.Methods, ev.In.Count, ev.Out.Count, o.Resumed)
	}
	// Output:
	// run 0: [msp odin energy], 20 + 20 images, 0 scores read back from the cache
	// run 1: [msp odin energy], 20 + 20 images, 40 scores read back from the cache
}

func ExampleWriteMethodTable() {
	results := []metrics.Result{
		{FPR95: 0.5123, DetErr: 0.2, AUROC: 0.87, AUPRIn: 0.9, AUPROut: 0.81},
		{FPR95: 0.2049, DetErr: 0.1, AUROC: 0.958, AUPRIn: 0.96, AUPROut: 0.95},
	}
	header := [][2]string{{"In-distribution dataset", "CIFAR-10"}}
	if err := experiment.WriteMethodTable(os.Stdout, header, []string{"msp", "odin"}, results); err != nil {
		log.Fatal(err)
	}
	// Output:
	// In-distribution dataset:                                            CIFAR-10
	//
	// Method            FPR at TPR 95%  Detection error   AUROC  AUPR In  AUPR Out
	// Baseline (MSP)             51.2%            20.0%   87.0%    90.0%     81.0%
	// ODIN                       20.5%            10.0%   95.8%    96.0%     95.0%
}
