// Command multi-account runs two Flip accounts in one process and one
// paylink Service: a bookshop ("flip-books") and a coffee shop
// ("flip-coffee"), each with its own secret key, its own callback token
// and its own routes.
//
// Each account is one flip.Client and one flip.Provider with its own name;
// nothing is global, so the two never share a key or a token. Each is
// mounted by ginadapter on its own group, so each has its own callback
// route, which accepts only its own account's token:
//
//	POST /flip-books/flip/callback     POST /flip-coffee/flip/callback
//	POST /flip-books/api/links         POST /flip-coffee/api/links
//	GET  /flip-books/api/links/:id     GET  /flip-coffee/api/links/:id
//
// The JSON routes of both accounts answer 401 without the app's bearer
// token, API_TOKEN (ginadapter.Config.APIAuth: Mount refuses JSON routes
// without one).
//
// Links and payments are stored under the provider's name, so the two
// accounts' ids never collide even when they are equal (both fakes number
// their first bill 1). One hook sees the payments of both, told apart by
// HookEvent.Payment.Provider.
//
// Both accounts are in-process fakes (flip/fliptest) and payments are kept
// in memory:
//
//	API_TOKEN=s3cret go run ./examples/multi-account
//
// Environment: API_TOKEN (required), ADDR (default 127.0.0.1:8080),
// BOOKS_CALLBACK_TOKEN and COFFEE_CALLBACK_TOKEN (default: random). With
// real accounts, each callback token comes from that account's Flip
// dashboard.
package main
