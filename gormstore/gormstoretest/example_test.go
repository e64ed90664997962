package gormstoretest_test

import (
	"fmt"

	"github.com/paylinkgo/paylink/gormstore/gormstoretest"
)

// A test opens the DSN PostgresSchema returns: every table it creates
// lands in the test's own schema. WithSearchPath is how that DSN is made,
// for both forms of DSN.
func ExampleWithSearchPath() {
	for _, dsn := range []string{
		"postgres://postgres@127.0.0.1:5432/test?sslmode=disable",
		"host=127.0.0.1 user=postgres dbname=test",
	} {
		withSchema, err := gormstoretest.WithSearchPath(dsn, "paylink_mine_0a1b2c")
		fmt.Println(withSchema, err)
	}
	// Output:
	// postgres://postgres@127.0.0.1:5432/test?search_path=paylink_mine_0a1b2c&sslmode=disable <nil>
	// host=127.0.0.1 user=postgres dbname=test search_path=paylink_mine_0a1b2c <nil>
}
