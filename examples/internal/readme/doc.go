// Package readme keeps the README's quickstart a program: [GoBlock] takes
// the Go code under a heading of README.md, and the package's test builds
// it and runs it against the offline fake Flip, as a new user would.
package readme
