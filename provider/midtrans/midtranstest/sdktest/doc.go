// Package sdktest tests midtranstest, paylink's fake Midtrans, against an
// independent client: the official Midtrans Go SDK
// (github.com/midtrans/midtrans-go). The SDK creates Snap transactions,
// reads their status, cancels, expires and refunds them on the fake, and
// decodes every answer and every notification the fake sends with its
// own types; a signature the SDK cannot check (it has no such check) is
// checked here from Midtrans's formula, not with paylink's code.
//
// It is a module of its own so that paylink's go.mod does not require the
// SDK. The repository's CI runs it after the main tests:
//
//	cd provider/midtrans/midtranstest/sdktest && go vet ./... && go test ./...
//
// The SDK has no setting for its hosts: EnvironmentType.BaseUrl and
// SnapURL map Sandbox and Production to Midtrans's hosts. The tests give
// the SDK's clients an http.Client whose Transport sends every request to
// the fake instead (keeping method, path, query, headers and body), and
// record the host the SDK meant, so they also check that Snap calls go to
// app.sandbox.midtrans.com and Core API calls to api.sandbox.midtrans.com.
package sdktest
