package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/odin-ood/odin/internal/gemm"
	"github.com/odin-ood/odin/nn"
	"github.com/odin-ood/odin/ood"
)

func init() {
	register("bench", "throughput of the forward pass and the ODIN step, and peak memory", cmdBench)
}

func cmdBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench")
	var nf netFlags
	nf.register(fs, "densenet10", 8)
	nf.registerPrep(fs)
	n := fs.Int("n", 512, "images per measurement")
	rounds := fs.Int("rounds", 3, "measurements of each kind, alternated; the median is printed")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the measurements to this file")
	steps := fs.Int("steps", 0, "also print where an ODIN step's time goes, by kind of layer and for the `N` costliest layers (one micro-batch on one worker)")
	if err := parseNoArgs(fs, args, stdout); err != nil {
		return err
	}
	if err := nf.check(); err != nil {
		return err
	}
	if *n < 1 || *rounds < 1 || *steps < 0 {
		return usageError("--n and --rounds must be positive, --steps not negative")
	}
	m, _, err := nf.load(stderr)
	if err != nil {
		return err
	}
	// Random images in [0,1]: speed does not depend on content.
	r := rand.New(rand.NewPCG(1, 1))
	size := m.Graph.Input().Size()
	images := make([]float32, *n*size)
	for i := range images {
		images[i] = r.Float32()
	}
	pool := nn.NewPool(m.Graph, nf.workers, nf.batch)
	batches := make([]*ood.Batch, nf.workers)
	scores := make([]float64, *n)
	det := ood.NewODIN()
	// run loads images lo…hi−1 on worker w, and with odin scores them into out.
	run := func(e *nn.Exec, w, lo, hi int, odin bool, out []float64) error {
		if batches[w] == nil {
			batches[w] = ood.NewBatch(m, e)
		}
		b := batches[w]
		if err := b.Load(images[lo*size:hi*size], hi-lo); err != nil {
			return err
		}
		if !odin {
			return nil
		}
		return det.Score(ctx, b, out)
	}
	step := func(odin bool) (float64, error) {
		start := time.Now()
		err := pool.Run(ctx, *n, func(e *nn.Exec, w, lo, hi int) error { return run(e, w, lo, hi, odin, scores[lo:hi]) })
		return float64(*n) / time.Since(start).Seconds(), err
	}
	// One untimed micro-batch of each kind on every worker first, as the PyTorch and ONNX
	// Runtime peers warm up: it touches the workers' memory.
	if err := pool.Each(ctx, func(e *nn.Exec, w int) error {
		hi := min(*n, nf.batch)
		if err := run(e, w, 0, hi, false, nil); err != nil {
			return err
		}
		return run(e, w, 0, hi, true, make([]float64, hi))
	}); err != nil {
		return err
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	var fw, od []float64
	for range *rounds {
		a, err := step(false)
		if err != nil {
			return err
		}
		b, err := step(true)
		if err != nil {
			return err
		}
		fw, od = append(fw, a), append(od, b)
	}
	fmt.Fprintf(stdout, "network %s, batch %d, workers %d, %d images × %d rounds, kernel %s\n", m.Name, nf.batch, nf.workers, *n, *rounds, gemm.Kernel())
	fmt.Fprintf(stdout, "forward %.1f img/s\n", median(fw))
	fmt.Fprintf(stdout, "odin %.1f img/s\n", median(od))
	fmt.Fprintf(stdout, "peak memory %s\n", peakMemory())
	if *steps == 0 {
		return nil
	}
	prof, err := ood.ProfileODIN(batches[0], det.Temperature, 3)
	if err != nil {
		return err
	}
	return printSteps(stdout, prof, *steps, batches[0].N)
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// peakMemory reports the process's peak resident set (VmHWM) where Linux provides it, else the
// Go runtime's total obtained from the OS.
func peakMemory() string {
	if f, err := os.Open("/proc/self/status"); err == nil {
		defer f.Close()
		s := bufio.NewScanner(f)
		for s.Scan() {
			if rest, ok := strings.CutPrefix(s.Text(), "VmHWM:"); ok {
				kb, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
				if err == nil {
					return fmt.Sprintf("%.0f MB (peak resident set)", float64(kb)/1024)
				}
			}
		}
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return fmt.Sprintf("%.0f MB (Go runtime total)", float64(ms.Sys)/(1<<20))
}
