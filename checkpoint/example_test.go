package checkpoint_test

import (
	"fmt"
	"log"

	"github.com/odin-ood/odin/checkpoint"
)

func ExampleOpen() {
	f, err := checkpoint.Open("testdata/legacy_dict.pth")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(f.Format, f.Meta["best_prec1"], f.Meta["epoch"])
	for _, name := range f.Names[:4] {
		fmt.Println(name, f.Tensors[name].Shape)
	}
	// Output:
	// legacy 91.5 12
	// conv.weight [4 3 3 3]
	// conv.bias [4]
	// bn.running_mean [4]
	// bn.num_batches_tracked []
}
