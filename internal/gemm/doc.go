// Package gemm is the single-precision matrix multiply at the core of the CNN inference engine:
// C = A·op(B) or C += A·op(B), where A (the weights) is packed once and B (activations) is
// packed on the fly.
//
// # Layouts
//
// All matrices are row-major float32 slices with an explicit row stride. A is M×K and is copied
// by Pack into zero-padded panels of 6 rows. B is K×n with row stride ldb ≥ n, C is M×n with row
// stride ldc ≥ n; elements between n and the stride are neither read (B) nor written (C).
// The optional RowOp is applied to B's rows while B is packed:
// b'[k][j] = max(0, b[k][j]*Scale[k] + Shift[k]) (each part optional; see RowOp), which fuses an
// inference BatchNorm + ReLU into the following 1×1 convolution. The multiply, the add and the
// clamp are each rounded to float32 (no fused multiply-add), ReLU keeps NaN and -0 as they are.
//
// # Algorithm
//
// Mul blocks K into blocks of at most 384 (the block size depends on K alone), n into blocks of
// 1024 columns and M into blocks of 96 rows, and runs a micro-kernel over 16-column panels of B
// and 6-row panels of A. The assembly runs all the full row panels of A against one B panel in
// a single call, so that the Go loop's cost is paid once per B panel rather than once per tile,
// which matters for the short K (12 and 48) of DenseNet's backward products; the kernel for the
// first row panel of A (the first four with AVX-512) packs each B panel while multiplying it,
// prefetching B's rows a little ahead.
//
// Thin products take another path with AVX-512: when A has at most 24 rows, or the K block is
// at most 32 long (MobileNetV2's 1×1 convolutions such as 32→16 and 16→96, and their backward
// products), one call of kernelThin512 multiplies a whole column block, 24 rows of A at a
// time, reading B's rows in place with the row operation applied in registers. With so few
// rows or k steps the panel-by-panel path spends its time in per-panel calls, in packing B
// panels that are used once, and in copying out the edge tile of an M such as 16;
// kernelThin512 computes the last row panel as a full tile and stores only its rows of C. Its
// K + M row streams are more than the hardware prefetchers follow, so it prefetches each of
// them 16 panels ahead into L2. On an AMD EPYC (Zen 4, 2 cores, AVX-512) these products ran
// 1.1–1.8× faster in cache (BenchmarkMulThin) and 1.7–2.7× faster streaming from memory as in
// the engine (nn's BenchmarkThin1x1).
//
// # Kernels
//
// Three micro-kernels compute the same products, chosen once at program start:
//
//   - "avx512" (amd64 with AVX-512 F): each 16-column tile row in one ZMM register, four row
//     panels at a time, so a 24×16 tile in 24 of the 32 ZMM registers takes 24 fused
//     multiply-adds, with A's values broadcast from memory inside them, per load of B. Four
//     panels is the most that fits beside the B rows and the epilogue's temporaries; the AVX2
//     kernel's 6×16 tile in ZMM registers would give six independent sums, fewer than the eight
//     that two 512-bit FMA pipes of 4-cycle latency need, and a load of B per six of them. MulGrad's products
//     (K = 48, bound by the epilogue's streams of C and X) run 6×16 ZMM tiles, which measured
//     faster there (AMD EPYC Zen 4 with AVX-512, 2 cores, 2026-12-03).
//   - "avx2-fma" (amd64 with AVX2 and FMA): a 6×16 tile in 12 YMM registers, one fused
//     multiply-add per product.
//   - "go" (any CPU, and builds with the purego tag): portable Go, a rounded multiply and a
//     rounded add per product.
//
// The fastest kernel the CPU runs is used unless the environment variable ODIN_KERNEL (see
// KernelEnv) names another, "avx512", "avx2" or "go", for A/B runs and tests; it is read once,
// at program start. A name that is unknown or that the CPU cannot run leaves the fastest kernel
// in use, and KernelEnvError says so. Kernel names the kernel in use; result caches record it.
//
// The AVX-512 kernel performs, for every element, the AVX2 kernel's operations in the same
// order with the same operands (the same fused multiply-adds from zero, the same epilogue), so
// the two give the same bits; the tests check this. Two paths have no ZMM version and run the
// AVX2 code under it: MulIndirect's direct convolutions, and the grad epilogue of MulGrad's first
// row panel. Edge tiles run the kernel on zero-padded panels rather than masked loads,
// so that their elements get exactly the arithmetic of full tiles.
//
// Across kernels, each element of C is the float32 sum of its K products (and C's previous
// value) in blocks; every term passes through at most K + ⌈K/384⌉ + 1 roundings of relative size
// u = 2⁻²⁴, so |C − exact| ≤ (K + ⌈K/384⌉ + 1)·u·(1+ε)·(Σ_k |a_ik||b'_kj| + |c_ij|) for every
// kernel (ε < 1%), and the Go kernel differs from the others by at most twice that.
//
// MulGrad is the backward pass of a 1×1 convolution whose input is normalised and rectified as
// it is read: C += (A·B) ⊙ op′(X), the row operation's derivative applied to each tile as it is
// stored, so that the product is never written out and read back.
//
// MulPanels is Mul for a B that its producer wrote directly in the kernel's panel layout
// (PanelWidth columns at a time, K rows each): the Winograd input transform does, which saves
// the packing; its products are Mul's bit for bit.
//
// # Generated assembly
//
// The amd64 kernels (kernel_amd64.s for AVX2, kernel512_amd64.s for AVX-512, indirect_amd64.s)
// are generated by the Go program in _asm, which uses avo (github.com/mmcloughlin/avo). It is a
// module of its own in a directory the go command skips, so avo is no dependency of the engine.
// After changing it, run go generate ./internal/gemm (which runs go -C _asm run . -dir ..);
// .ci/check-asm fails when the committed files are not its output byte for byte. The Go
// declarations stay in kernel_amd64.go, and go vet checks the generated frames against them.
//
// The generator describes a kernel once, parameterised by the register file: a 16-float tile
// row is two YMM registers or one ZMM register. The k loop, the fused multiply-adds, the packing
// of B with its row operation and the prefetch stream come from the same code for both, which is
// how the AVX2 and AVX-512 kernels keep the same arithmetic; kernelPackAVX, kernelPack512 and
// kernelPack4x512 are one function of the register file and the number of row panels. Written
// once per register file, because the instructions differ, are the epilogues (AVX2 adds C into
// the accumulators and then stores, AVX-512 adds and stores a row at a time), the grad
// epilogue's select (a blend on AVX2, a mask register on AVX-512) and kernelRows512's grouping
// of row panels by four. Registers are physical, assigned as in the hand-written kernels the
// generator replaced, and the generated machine code is theirs byte for byte (compared by
// disassembling both), so every result and speed measured before holds. No kernel stayed
// hand-written: each one's structure was expressible as it was. kernelThin512 (thin.go,
// AVX-512 only), written since, builds its k loop from the same fused multiply-add steps and
// row operation instructions, reading B's rows in place.
//
// # Determinism
//
// Every element C[i][j] is computed by the same sequence of float32 operations whatever the
// call: the products a[i][k]·b'[k][j] are accumulated in k order within each K block starting
// from zero, and the block sums are added to C in block order (to the previous C when acc is
// true, or with the first block stored when it is false). Edge tiles (fewer than 6 rows or 16
// columns) run the same kernel on zero-padded panels and are copied out (on the thin path, edge
// rows are stored without the padded ones). So C[i][j] depends only on row i of A, column j
// of B (and op), K, acc's input C[i][j] and the kernel: never on n, on j's position, on ldb or
// ldc, or on the other columns in the call. Multiplying one column alone gives the bits it gets
// inside a wide product, so a scoring service may batch requests freely, and workers that
// split the columns of a product among them get the bits of one call. The AVX-512 and AVX2
// kernels agree bit for bit; the Go kernel rounds differently.
//
// # Concurrency and allocation
//
// A Packed is immutable and may be used by any number of goroutines at once. Mul is
// single-threaded; callers parallelise across calls, giving each goroutine its own Workspace.
// A Workspace grows on first use to at most 384·1024 floats (1.5 MiB) when M > 96 and to at most
// 384·16 floats (24 KiB) when M ≤ 96; after that Mul allocates nothing.
//
// # Errors
//
// These are internal calls whose arguments come from the engine's own shapes, so Pack and Mul
// panic, with a message naming the argument, on programmer errors: negative sizes, strides
// smaller than widths, slices shorter than their sizes and strides require, and RowOp slices
// shorter than K.
package gemm
