// Package runtest runs the example programs in process for their tests:
// [Start] calls a program's run function with a test environment, waits
// until it serves, and [App.Shutdown] cancels it and checks that it stopped
// cleanly. The helpers drive it over HTTP, poll with generous deadlines
// ([Eventually]) and play the customer on the fake Flip ([Simulate]).
package runtest
