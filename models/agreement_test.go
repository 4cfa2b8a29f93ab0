package models

import (
	"testing"

	"github.com/odin-ood/odin/internal/datadir"
)

// Agreement with PyTorch 1.13 (CPU, float32) on the fixtures of testdata/gen_torch.py.
// Observed on this machine (go test -v -run AgreesWithPyTorch):
//
//	network        max |Δlogit|  signs agree  grad rel. err  max |Δodin|  max |Δbaseline|
//	densenet10     TBD
//
// The tolerances leave about ten times the observed differences.

var realTolerance = tolerance{logit: 1e-4, signAgree: 0.999, gradRel: 1e-3, odin: 1e-7, baseline: 1e-5}
var randomTolerance = tolerance{logit: 1e-4, signAgree: 0.999, gradRel: 1e-3, odin: 1e-7, baseline: 1e-5}

func TestDenseNet10AgreesWithPyTorch(t *testing.T) {
	m, err := Load(datadir.ForTest(t, "models/densenet10.pth"), "")
	if err != nil {
		t.Fatal(err)
	}
	images, labels := cifarTest(t, 8)
	checkLabels(t, readFixtures(t).net(t, "densenet10"), labels)
	checkAgreement(t, "densenet10", realTolerance, m, images)
}

func TestResNet20AgreesWithPyTorch(t *testing.T) {
	m, err := Load(datadir.ForTest(t, "models/resnet20-cifar10.th"), "")
	if err != nil {
		t.Fatal(err)
	}
	images, labels := cifarTest(t, 8)
	checkLabels(t, readFixtures(t).net(t, "resnet20"), labels)
	checkAgreement(t, "resnet20", realTolerance, m, images)
}

func TestWideResNetAgreesWithPyTorch(t *testing.T) {
	checkAgreement(t, "wrn-10-1", randomTolerance, loadFixtureModel(t, "wrn-10-1.pth"), randomImages(t))
}

func TestSmallDenseNetAgreesWithPyTorch(t *testing.T) {
	checkAgreement(t, "densenet-22-4", randomTolerance, loadFixtureModel(t, "densenet-22-4.pth"), randomImages(t))
}

func TestResNet8AgreesWithPyTorch(t *testing.T) {
	checkAgreement(t, "resnet8", randomTolerance, loadFixtureModel(t, "resnet8.pt"), randomImages(t))
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
