package models

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/odin-ood/odin/checkpoint"
	"golang.org/x/sys/unix"
)

// BenchmarkTorchvisionResNet50 times torchvision's ResNet-50 at 224×224 (random weights from the
// large fixtures of gen_statedicts.py; skipped without them) on one thread, micro-batches of 8:
// the forward pass and ODIN's step (forward, input gradient, second forward). img/cpu-s divides
// by the thread's CPU time, which discounts other load on the machine.
func BenchmarkTorchvisionResNet50(b *testing.B) {
	dir := os.Getenv("ODIN_STATEDICT_FIXTURES")
	if dir == "" {
		cache, _ := os.UserCacheDir()
		dir = filepath.Join(cache, "odin", "statedict-fixtures")
	}
	f, err := checkpoint.Open(filepath.Join(dir, "resnet50.pt"))
	if err != nil {
		b.Skipf("large state_dict fixtures missing (%v): /usr/bin/python3 models/testdata/gen_statedicts.py --large", err)
	}
	m, err := FromTensorsAt(f.Tensors, ArchTorchvisionResNet, 224)
	if err != nil {
		b.Fatal(err)
	}
	const n = 8
	r := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, n*m.Graph.Input().Size())
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	seed := make([]float32, n*m.Classes())
	for i := range seed {
		seed[i] = float32(r.NormFloat64() * 1e-3)
	}
	run := func(b *testing.B, odin bool) {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		e := m.Graph.NewExec(n)
		var gin []float32
		step := func() {
			e.Forward(x, n)
			if odin {
				gin, _ = e.Backward("", seed, gin)
				e.Forward(x, n)
			}
		}
		step()
		b.ResetTimer()
		t0 := threadCPU()
		for range b.N {
			step()
		}
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "img/s")
		if cpu := threadCPU() - t0; cpu > 0 {
			b.ReportMetric(float64(n*b.N)/cpu.Seconds(), "img/cpu-s")
		}
	}
	b.Run("forward", func(b *testing.B) { run(b, false) })
	b.Run("odin", func(b *testing.B) { run(b, true) })
}

// threadCPU is the CPU time of the calling OS thread.
func threadCPU() time.Duration {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts) != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}
