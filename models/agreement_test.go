package models

import (
	"testing"

	"github.com/odin-ood/odin/internal/datadir"
)

// Agreement with PyTorch 1.13 (CPU, float32) on the fixtures of testdata/gen_torch.py, as
// observed on the development machine (go test -v -run AgreesWithPyTorch):
//
//	network         max |Δlogit|  signs agree  grad rel. err  max |Δodin|  max |Δbaseline|
//	densenet10      7.6e-6        100%         1.9e-4         5.5e-10      3.2e-8
//	resnet20        1.1e-5        100%         5.1e-7         7.8e-10      3.0e-8
//	wrn-10-1        7.6e-6        100%         5.1e-7         3.4e-10      1.1e-6
//	densenet-22-4   1.5e-5        100%         3.5e-7         1.2e-9       1.1e-6
//	resnet8         1.1e-5        100%         5.3e-7         1.2e-9       3.6e-6
//
// ODIN scores at T = 1000 spread over about 1e-3 between images, so the score differences are
// a millionth of what separates images. The densenet10 gradient error comes from one image
// (number 3) with a ReLU input within rounding of zero: against a float64 PyTorch run its
// gradient is off by 3.1e-4 in PyTorch float32 and 5.8e-4 here, the other images by 3e-7 to
// 4e-7 on both sides. The tolerances leave room for such kinks and for changes of summation
// order in package nn, while a wrong layer, normalisation or perturbation direction is off by
// orders of magnitude more. Baseline scores move by at most half the logit difference.
var torchTolerance = tolerance{logit: 1e-4, signAgree: 0.999, gradRel: 5e-3, odin: 1e-7, baseline: 5e-5}

func TestDenseNet10AgreesWithPyTorch(t *testing.T) {
	m, err := Load(datadir.ForTest(t, "models/densenet10.pth"), "")
	if err != nil {
		t.Fatal(err)
	}
	images, labels := cifarTest(t, 8)
	checkLabels(t, readFixtures(t).net(t, "densenet10"), labels)
	checkAgreement(t, "densenet10", torchTolerance, m, images)
}

func TestResNet20AgreesWithPyTorch(t *testing.T) {
	m, err := Load(datadir.ForTest(t, "models/resnet20-cifar10.th"), "")
	if err != nil {
		t.Fatal(err)
	}
	images, labels := cifarTest(t, 8)
	checkLabels(t, readFixtures(t).net(t, "resnet20"), labels)
	checkAgreement(t, "resnet20", torchTolerance, m, images)
}

func TestWideResNetAgreesWithPyTorch(t *testing.T) {
	checkAgreement(t, "wrn-10-1", torchTolerance, loadFixtureModel(t, "wrn-10-1.pth"), randomImages(t))
}

func TestSmallDenseNetAgreesWithPyTorch(t *testing.T) {
	checkAgreement(t, "densenet-22-4", torchTolerance, loadFixtureModel(t, "densenet-22-4.pth"), randomImages(t))
}

func TestResNet8AgreesWithPyTorch(t *testing.T) {
	checkAgreement(t, "resnet8", torchTolerance, loadFixtureModel(t, "resnet8.pt"), randomImages(t))
}

// checkLabels makes sure the test reads the same CIFAR images the generator did.
func checkLabels(t *testing.T, want *torchNet, got []int) {
	t.Helper()
	for i, l := range want.Labels {
		if got[i] != l {
			t.Fatalf("CIFAR-10 test image %d has label %d, the fixture was made with %d", i, got[i], l)
		}
	}
}
