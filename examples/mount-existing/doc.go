// Command mount-existing shows paylink mounted into a Gin application that
// already has its own routes and middleware.
//
// The app has a request-id and access-log middleware on every route, public
// routes (GET /healthz, GET /api/products) and an admin group behind a bearer
// token (GET /api/admin/callbacks). paylink is mounted on its own group,
// /paylink, outside the admin group:
//
//	POST /paylink/flip/callback   Flip's callbacks: authenticated by Flip's
//	                              callback token, never by the app's auth
//	POST /paylink/api/links       create a payment link  } behind the app's
//	GET  /paylink/api/links/:id   a link and its payments } admin token
//
// Flip cannot send the app's admin token, so its callback route must not be
// behind the app's auth; ginadapter checks Flip's own token instead. The
// JSON routes are protected with the app's middleware through
// ginadapter.Config.APIAuth, without which Mount refuses them.
//
// Payments are stored by gormstore in a SQLite file and Flip is the
// in-process fake (flip/fliptest), so the example runs offline:
//
//	ADMIN_TOKEN=s3cret go run ./examples/mount-existing
//
// Environment: ADMIN_TOKEN (required), ADDR (default 127.0.0.1:8080),
// SQLITE_PATH (default paylink-mount-existing.db in the temp directory).
package main
