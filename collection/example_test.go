package collection_test

import (
	"fmt"

	"github.com/odin-ood/odin/collection"
)

// Every machine of a job computes the same split from the paths alone.
func ExampleShard_Select() {
	paths := []string{"img/0.png", "img/1.png", "img/2.png", "img/3.png", "img/4.png"}
	for i := range 2 {
		s := collection.Shard{I: i, N: 2}
		fmt.Println(s, s.Select(paths))
	}
	// Output:
	// 0/2 [img/1.png img/2.png img/4.png]
	// 1/2 [img/0.png img/3.png]
}
