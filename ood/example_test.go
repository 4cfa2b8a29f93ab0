package ood_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"math"

	"github.com/odin-ood/odin/dataset"
	"github.com/odin-ood/odin/models"
	"github.com/odin-ood/odin/ood"
)

// Parse turns a method list into detectors, with the paper's defaults except where a parameter is
// given.
func ExampleParse() {
	dets, err := ood.Parse("msp,odin,energy", ood.Options{Params: map[string]float64{"odin.temperature": 100}})
	if err != nil {
		log.Fatal(err)
	}
	for _, d := range dets {
		fmt.Print(d.Name())
		for _, p := range d.Params() {
			fmt.Printf(" %s=%g", p.Name, *p.Value)
		}
		fmt.Println()
	}
	// Output:
	// msp
	// odin temperature=100 magnitude=0.0014
	// energy temperature=1
}

// CheckODIN is the one rule for ODIN's parameters, which every command and a service share.
func ExampleCheckODIN() {
	for _, p := range [][2]float64{{1000, 0.0014}, {1000, math.NaN()}, {math.Inf(1), 0}, {1e-300, 0}, {1000, 1e300}, {1000, -0.001}} {
		err := ood.CheckODIN(p[0], p[1])
		fmt.Println(err == nil, errors.Is(err, ood.ErrParam))
	}
	// Output:
	// true false
	// false true
	// false true
	// false true
	// false true
	// false true
}

// Detectors score a Batch: one micro-batch on one engine, its forward pass shared by all of them.
func ExampleODIN() {
	m, err := models.Load("../models/testdata/densenet-22-4.pth", "") // a small untrained DenseNet-BC
	if err != nil {
		log.Fatal(err)
	}
	const n = 4
	images := make([]float32, n*dataset.Pixels)
	noise := dataset.Uniform(n, 1)
	for i := range n {
		if _, err := noise.Image(i, images[i*dataset.Pixels:(i+1)*dataset.Pixels]); err != nil {
			log.Fatal(err)
		}
	}
	b := ood.NewBatch(m, m.Graph.NewExec(n))
	if err := b.Load(images, n); err != nil {
		log.Fatal(err)
	}
	msp, odin := make([]float64, n), make([]float64, n)
	if err := (ood.MSP{}).Score(context.Background(), b, msp); err != nil {
		log.Fatal(err)
	}
	if err := ood.NewODIN().Score(context.Background(), b, odin); err != nil {
		log.Fatal(err)
	}
	for i := range n {
		// At T = 1000 the softmax is nearly flat: ODIN's scores lie just above 1/K.
		fmt.Printf("%v %.2f\n", msp[i] > 0.1 && msp[i] <= 1, odin[i])
	}
	// Output:
	// true 0.10
	// true 0.10
	// true 0.10
	// true 0.10
}
