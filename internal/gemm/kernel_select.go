package gemm

import (
	"fmt"
	"os"
	"strings"
)

// KernelEnv is the environment variable that forces a micro-kernel: "avx512", "avx2" or "go".
// It is read once, at program start; unset or empty means the fastest kernel the CPU runs.
const KernelEnv = "ODIN_KERNEL"

// kernelID names a micro-kernel. The zero value means the process default (defaultKernel), so
// that a zero Workspace uses it.
type kernelID uint8

const (
	kernDefault kernelID = iota
	kernGo               // portable Go: a rounded multiply and a rounded add per product
	kernAVX2             // 6×16 tiles in YMM registers, one fused multiply-add per product
	kernAVX512           // up to 24×16 tiles in ZMM registers, the same arithmetic as kernAVX2
)

// String is the name Kernel reports, which result caches record.
func (k kernelID) String() string {
	switch k.resolve() {
	case kernAVX2:
		return "avx2-fma"
	case kernAVX512:
		return "avx512"
	}
	return "go"
}

// resolve maps kernDefault to the process default.
func (k kernelID) resolve() kernelID {
	if k == kernDefault {
		return defaultKernel
	}
	return k
}

// defaultKernel and kernelEnvErr are fixed at program start from the CPU and KernelEnv; they
// are never written afterwards.
var defaultKernel, kernelEnvErr = chooseKernel(os.Getenv(KernelEnv), supportedKernels())

// chooseKernel picks the kernel that env names among avail (fastest last), or the fastest when
// env is empty. A name that is unknown or that the CPU cannot run gives the fastest kernel and
// an error saying so.
func chooseKernel(env string, avail []kernelID) (kernelID, error) {
	best := avail[len(avail)-1]
	var want kernelID
	switch strings.ToLower(strings.TrimSpace(env)) {
	case "":
		return best, nil
	case "go", "purego":
		want = kernGo
	case "avx2", "avx2-fma":
		want = kernAVX2
	case "avx512", "avx-512":
		want = kernAVX512
	default:
		return best, fmt.Errorf("gemm: %s=%q names no kernel (avx512, avx2, go); using %v", KernelEnv, env, best)
	}
	for _, k := range avail {
		if k == want {
			return k, nil
		}
	}
	return best, fmt.Errorf("gemm: %s=%q: %s; using %v", KernelEnv, env, whyNot(want), best)
}
