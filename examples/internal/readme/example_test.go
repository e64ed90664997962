package readme_test

import (
	"fmt"

	"github.com/paylinkgo/paylink/examples/internal/readme"
)

func ExampleGoBlock() {
	md := "# App\n\n## Run it\n\nText.\n\n```go\npackage main\n\nfunc main() {}\n```\n"
	code, err := readme.GoBlock(md, "## Run it")
	if err != nil {
		panic(err)
	}
	fmt.Print(code)
	// Output:
	// package main
	//
	// func main() {}
}
