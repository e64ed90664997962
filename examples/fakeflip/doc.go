// Command fakeflip runs the fake Flip for Business API of package
// flip/fliptest as a standalone server, so that any program (in any
// language) can be developed and tested against Flip offline.
//
//	go run ./examples/fakeflip
//
// Environment (all optional):
//
//	ADDR                          listen address (default ":9090")
//	FLIP_SECRET_KEY               the secret key clients must send (default "fakeflip-secret-key")
//	FLIP_CALLBACK_TOKEN           the token sent with callbacks (default "fakeflip-callback-token")
//	FLIP_CALLBACK_URL             where callbacks are POSTed (default: none, callbacks only recorded)
//	FLIP_CALLBACK_RETRY_INTERVAL  wait between callback retries, a Go duration (default 2m, Flip's)
//	FLIP_FAKE_MODES               comma-separated: answer as loosely as Flip's own examples
//	                              (null-strings, string-numbers, decimal-amounts,
//	                              unencoded-callbacks, empty-payments-1050 or -1043; "loose"
//	                              is all of them) or refuse more (refuse-local-redirects)
//
// It prints the base URL (point FLIP_BASE_URL of your app at it) and stops
// on SIGINT or SIGTERM. The routes are documented in package fliptest:
// Flip's v2 API under /v2, checkout pages under /pwf/checkout/{link_id},
// and simulations under /_fliptest/.
package main
