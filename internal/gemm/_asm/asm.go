// Command asm generates the amd64 micro-kernels of package gemm with avo: kernel_amd64.s
// (AVX2), kernel512_amd64.s (AVX-512) and indirect_amd64.s, in the directory -dir (default
// "..", package gemm's). go generate ./internal/gemm runs it; .ci/check-asm checks that the
// committed files are its output. The AVX2 and AVX-512 variants of a kernel come from
// one description (tile.go) parameterised by the register file (vec), so that the two keep
// the same arithmetic, which the package promises bit for bit. Registers are physical and
// chosen as the hand-written kernels chose them, so the generated instructions are theirs.
// This is a module of its own in a directory the go command ignores, so that avo is no
// dependency of the engine.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/mmcloughlin/avo/attr"
	"github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/pass"
	"github.com/mmcloughlin/avo/printer"
	"github.com/mmcloughlin/avo/reg"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("gemm/_asm: ")
	dir := flag.String("dir", "..", "write the assembly files into `directory` (package gemm's)")
	flag.Parse()
	if flag.NArg() > 0 {
		log.Fatalf("unexpected arguments %q", flag.Args())
	}
	for _, o := range []struct {
		file string
		emit func(*gen)
	}{
		{"kernel_amd64.s", emitAVX2},
		{"kernel512_amd64.s", emitAVX512},
		{"indirect_amd64.s", emitIndirect},
	} {
		path := filepath.Join(*dir, o.file)
		if err := write(path, o.emit); err != nil {
			build.LogError(log.Default(), err, 0)
			log.Fatalf("%s: not written", path)
		}
	}
}

// generatedBy names the generator in the files' headers, the same whatever -dir is, so that
// .ci/check-asm can compare a fresh copy with the committed one byte for byte.
const generatedBy = "internal/gemm/_asm (go generate ./internal/gemm)"

// write runs emit on a fresh avo context and writes the resulting Go assembly to path.
func write(path string, emit func(*gen)) error {
	g := &gen{Context: build.NewContext()}
	g.ConstraintExpr("amd64,!purego")
	emit(g)
	f, err := g.Result()
	if err != nil {
		return err
	}
	if err := pass.Compile.Execute(f); err != nil {
		return err
	}
	b, err := printer.NewGoAsm(printer.Config{Name: generatedBy}).Print(f)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// gen is an avo context with the helpers the kernels share.
type gen struct {
	*build.Context
	labels int // for the unique labels of repeated sequences
}

// text starts a NOSPLIT function with the Go signature sig (which go vet checks against the
// declaration in kernel_amd64.go).
func (g *gen) text(name, sig string) {
	g.Function(name)
	g.Attributes(attr.NOSPLIT)
	g.SignatureExpr(sig)
}

// param is the frame address of the named argument.
func (g *gen) param(name string) operand.Mem {
	b, err := g.Param(name).Resolve()
	if err != nil {
		panic(fmt.Sprintf("param %s: %v", name, err))
	}
	return b.Addr
}

// label returns a label name unique in the file.
func (g *gen) label(prefix string) string {
	g.labels++
	return fmt.Sprintf("%s%d", prefix, g.labels)
}

// m is disp(base); mx is disp(base)(index*scale).
func m(base reg.Register, disp int) operand.Mem { return operand.Mem{Base: base, Disp: disp} }

func mx(base, index reg.Register, scale uint8, disp int) operand.Mem {
	return operand.Mem{Base: base, Index: index, Scale: scale, Disp: disp}
}

// imm is an integer constant typed so that avo accepts it for the imm8 or imm32 forms.
func imm(x int) operand.Op {
	if x >= -128 && x <= 127 {
		return operand.I8(x)
	}
	return operand.I32(x)
}

func lbl(name string) operand.LabelRef { return operand.LabelRef(name) }

var (
	ymm = []reg.VecPhysical{reg.Y0, reg.Y1, reg.Y2, reg.Y3, reg.Y4, reg.Y5, reg.Y6, reg.Y7,
		reg.Y8, reg.Y9, reg.Y10, reg.Y11, reg.Y12, reg.Y13, reg.Y14, reg.Y15}
	zmm = []reg.VecPhysical{reg.Z0, reg.Z1, reg.Z2, reg.Z3, reg.Z4, reg.Z5, reg.Z6, reg.Z7,
		reg.Z8, reg.Z9, reg.Z10, reg.Z11, reg.Z12, reg.Z13, reg.Z14, reg.Z15,
		reg.Z16, reg.Z17, reg.Z18, reg.Z19, reg.Z20, reg.Z21, reg.Z22, reg.Z23,
		reg.Z24, reg.Z25, reg.Z26, reg.Z27, reg.Z28, reg.Z29, reg.Z30, reg.Z31}
)
