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
func mountConsole(r gin.IRouter, svc *provider.Service, cfg config, log *slog.Logger) error {
	if !cfg.console() {
		return nil
	}
	return console.Mount(r.Group(consolePath), svc, console.Options{
		Authorize: gin.BasicAuthForRealm(gin.Accounts{cfg.consoleUser: cfg.consolePassword}, "paylink console"),
		Logger:    log.With("component", "console"),
	})
}
