package main

import (
	"fmt"
	"io"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/odin-ood/odin/nn"
)

// printSteps prints an ODIN step's time by kind of layer and for the top costliest layers. A
// step runs each layer forward twice and backward once.
func printSteps(w io.Writer, steps []nn.StepTime, top, images int) error {
	odin := func(s nn.StepTime) time.Duration { return 2*s.Forward + s.Backward }
	var total time.Duration
	type kindTime struct {
		kind          string
		fw, bw, share time.Duration
	}
	byKind := map[string]*kindTime{}
	var kinds []*kindTime
	for _, s := range steps {
		total += odin(s)
		k := byKind[s.Kind]
		if k == nil {
			k = &kindTime{kind: s.Kind}
			byKind[s.Kind] = k
			kinds = append(kinds, k)
		}
		k.fw, k.bw, k.share = k.fw+s.Forward, k.bw+s.Backward, k.share+odin(s)
	}
	if total <= 0 {
		return fmt.Errorf("bench: the profile measured no time")
	}
	pct := func(d time.Duration) string { return fmt.Sprintf("%.1f%%", 100*d.Seconds()/total.Seconds()) }
	sort.SliceStable(kinds, func(i, j int) bool { return kinds[i].share > kinds[j].share })
	fmt.Fprintf(w, "\nwhere an ODIN step's time goes: %d images on one worker, each layer's fastest of 3 runs, %s per step\n", images, ms(total))
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "kind of layer\tlayers\tforward\tbackward\tshare of the step")
	for _, k := range kinds {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", k.kind, countKind(steps, k.kind), ms(k.fw), ms(k.bw), pct(k.share))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	costly := append([]nn.StepTime(nil), steps...)
	sort.SliceStable(costly, func(i, j int) bool { return odin(costly[i]) > odin(costly[j]) })
	fmt.Fprintf(w, "\nthe %d costliest layers\n", min(top, len(costly)))
	tw = tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "step\tlayer\tcomputation\toutput\tforward\tbackward\tshare of the step")
	for _, s := range costly[:min(top, len(costly))] {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%v\t%s\t%s\t%s\n", s.Step, shorten(s.Name, 40), s.Op, s.Out, ms(s.Forward), ms(s.Backward), pct(odin(s)))
	}
	return tw.Flush()
}

func countKind(steps []nn.StepTime, kind string) int {
	n := 0
	for _, s := range steps {
		if s.Kind == kind {
			n++
		}
	}
	return n
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", d.Seconds()*1e3) }

// shorten keeps the end of a long layer name, where ONNX exporters put what tells layers apart.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return "…" + string(r[len(r)-n+1:])
}
