package main

import (
	"log/slog"

	"github.com/gin-gonic/gin"

	"github.com/paylinkgo/paylink/ginadapter/console"
	"github.com/paylinkgo/paylink/provider"
)

// consolePath is where the operations console is mounted.
const consolePath = "/ops"

// mountConsole mounts paylink's operations console at /ops/ behind basic
// auth with the credentials of PAYLINK_CONSOLE_USER and
// PAYLINK_CONSOLE_PASSWORD (gin.BasicAuth compares the whole credential
// in constant time); the signed-in user is the operator every action is
// recorded under. Without credentials the console is not mounted, and
// /ops/ is 404. Basic auth sends the password with every request: put the
// shop behind HTTPS before turning the console on anywhere but a laptop.
//
// Failed sign-ins are throttled (see signInLimits): after 10 from one
// client within 15 minutes, or 100 from all clients, the console answers
// 429 with Retry-After until the lockout ends.
func mountConsole(r gin.IRouter, svc *provider.Service, cfg config, log *slog.Logger) error {
	if !cfg.console() {
		return nil
	}
	log = log.With("component", "console")
	throttle := newSignInThrottle(defaultSignInLimits, log)
	return console.Mount(r.Group(consolePath), svc, console.Options{
		Authorize: throttle.authorize(gin.BasicAuthForRealm(gin.Accounts{cfg.consoleUser: cfg.consolePassword}, "paylink console")),
		Logger:    log,
	})
}
