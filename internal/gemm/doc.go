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
// 1024 columns and M into blocks of 96 rows, and runs a 6×16 micro-kernel over 16-column panels
// of B. On amd64 with AVX2 and FMA (detected at run time) the micro-kernel is assembly with 12
// YMM accumulators and one fused multiply-add per product; the kernel for the first row panel of
// A packs each B panel while multiplying it, prefetching B's rows a little ahead. Elsewhere, or
// when built with the purego tag, a portable Go kernel is used (Kernel reports which). The
// assembly runs all the full row panels of A against one B panel in a single call, so that the
// Go loop's cost is paid once per B panel rather than once per tile, which matters for the
// short K (12 and 48) of DenseNet's backward products.
//
// MulGrad is the backward pass of a 1×1 convolution whose input is normalised and rectified as
// it is read: C += (A·B) ⊙ op′(X), the row operation's derivative applied to each tile as it is
// stored, so that the product is never written out and read back.
//
// MulPanels is Mul for a B that its producer wrote directly in the kernel's panel layout
// (PanelWidth columns at a time, K rows each): the Winograd input transform does, which saves
// the packing; its products are Mul's bit for bit.
//
// # Determinism
//
// Every element C[i][j] is computed by the same sequence of float32 operations whatever the
// call: the products a[i][k]·b'[k][j] are accumulated in k order within each K block starting
// from zero, and the block sums are added to C in block order (to the previous C when acc is
// true, or with the first block stored when it is false). Edge tiles (fewer than 6 rows or 16
// columns) run the same kernel on zero-padded panels and are copied out. So C[i][j] depends
// only on row i of A, column j of B (and op), K and acc's input C[i][j]: never on n, on j's
// position, on ldb or ldc, or on the other columns in the call. Multiplying one column alone
// gives the bits it gets inside a wide product. The guarantee holds within one kernel: the
// assembly and Go kernels round differently and need not agree bit for bit.
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
