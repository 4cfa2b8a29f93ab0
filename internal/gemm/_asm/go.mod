module github.com/odin-ood/odin/internal/gemm/_asm

go 1.26.0

// golang.org/x/tools is raised above avo's v0.16.1, which does not compile with Go 1.26.

require github.com/mmcloughlin/avo v0.6.0

require (
	golang.org/x/mod v0.42.0 // indirect
	golang.org/x/sync v0.24.0 // indirect
	golang.org/x/tools v0.52.0 // indirect
)
