package ood

import (
	"context"
	"encoding/binary"
	"math"
	"os"
	"testing"
)

func TestTmpDumpGrad(t *testing.T) {
	f := readFixture(t)
	m := loadDenseNet10(t)
	x := fixtureImages(t, f)
	n := f.testN()
	b := NewBatch(m, m.Graph.NewExec(n))
	if err := b.Load(x, n); err != nil {
		t.Fatal(err)
	}
	d := NewMahalanobisPre()
	s := NewStats(m, "densenet10", f.train)
	d.Fit(context.Background(), f.train, s)
	dst := make([]float64, n)
	d.Score(context.Background(), b, dst)
	g := b.s32["maha.gin"]
	buf := make([]byte, 4*len(g))
	for i, v := range g {
		binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(v))
	}
	os.WriteFile("/tmp/go_grad.f32", buf, 0o644)
}
