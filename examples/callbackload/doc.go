// Command callbackload measures what paylink's callback route costs under
// load, beside the handler a team would write by hand, in one run.
//
// It compares three handlers of Flip's callbacks, each in its own server
// process on a loopback port:
//
//   - bare: a Gin route that parses the form and answers 200, the ceiling;
//   - handwritten: Gin and GORM by hand: the token compared in constant
//     time, Flip's data decoded, and one transaction that inserts the
//     payment (ON CONFLICT DO NOTHING) and updates its bill;
//   - paylink: ginadapter.Mount on a provider.Service over gormstore, with
//     the flip provider, links created through the service against the
//     in-process fake Flip, and a no-op success hook running.
//
// on PostgreSQL (a fresh schema per server, dropped at the end) and SQLite
// (a temporary file). Every callback is a new SUCCESSFUL payment on one of
// many open-amount MULTIPLE links. A closed-loop client sends them at each
// concurrency of -c; the servers report their own allocations, and paylink's
// its hook lag and backlog. An open-loop run (-sustain) then offers paylink
// a fixed rate. The report is printed as Markdown tables, and -png draws
// the throughput.
//
//	go run ./examples/callbackload -png docs/benchmarks-throughput.png
//
// The program re-executes itself as the server under test, so the client's
// own work never counts in the server's allocations. Every run is bounded:
// see -n, -cell-time, -drain, -sustain and -timeout, and README.md for how
// to read the figures.
package main
