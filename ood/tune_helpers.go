package ood

// ForwardImages runs the network on n normalised images x (any n up to the Exec's capacity,
// not necessarily the batch's N) and returns their logits, n×K, valid until the next call.
// Like ForwardPerturbed it leaves the Exec without the clean pass, so a later Restore reruns
// it. A parameter search uses it to pack perturbed copies of the batch's images, each at its
// own temperature and magnitude, into full forward passes.
func (b *Batch) ForwardImages(x []float32, n int) ([]float32, error) {
	b.clean = false
	if err := b.Exec.Forward(x, n); err != nil {
		return nil, err
	}
	b.logits2 = b.Exec.Logits(b.logits2)
	return b.logits2, nil
}
