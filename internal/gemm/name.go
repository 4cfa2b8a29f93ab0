package gemm

// Kernel names the micro-kernel in use: "avx512", "avx2-fma" or "go". Results computed with
// "avx512" and "avx2-fma" are bit-identical (see the package documentation); "go" rounds
// differently.
func Kernel() string { return defaultKernel.String() }

// KernelEnvError reports why the kernel that KernelEnv asks for is not the one in use (an
// unknown name, or a kernel this CPU or build cannot run), or nil.
func KernelEnvError() error { return kernelEnvErr }
