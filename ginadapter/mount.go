package ginadapter

import (
	"log/slog"

	"github.com/gin-gonic/gin"

	"github.com/paylinkgo/paylink/provider"
)

// Mount mounts paylink's routes on r (an engine or a group; paths are
// relative to it):
//
//	POST {CallbackPath}           the provider's callbacks (always)
//	POST {APIPrefix}/links        create a link (when APIPrefix is set), behind APIAuth
//	GET  {APIPrefix}/links/:id    a link and its payments (when APIPrefix is set), behind APIAuth
//	GET  {ReturnPath}/:link_id    the customer's return (when ReturnPath is set)
//
// It returns an error, and mounts nothing, when cfg is invalid (among
// others: APIPrefix set without APIAuth or APIPublic), when the
// Service has no such provider, or when the provider implements
// [provider.CallbackChecker] and reports that callback verification is not
// configured (no token, no route: a callback route that cannot tell Flip
// from anyone else must not exist).
//
// Mount registers routes only; it starts nothing. Start the Service's
// hooks with svc.Start.
func Mount(r gin.IRouter, svc *provider.Service, cfg Config) error {
	if r == nil {
		return provider.Errorf(provider.CodeInvalidArgument, "ginadapter.Mount", "router is nil")
	}
	cfg = cfg.withDefaults()
	cb, err := newCallbackHandler(svc, cfg)
	if err != nil {
		return err
	}
	base := ""
	if g, ok := r.(interface{ BasePath() string }); ok {
		base = g.BasePath()
	}
	read, isReader := svc.Store().(provider.Reader)
	if (cfg.APIPrefix != "" || cfg.ReturnPath != "") && !isReader {
		return provider.Errorf(provider.CodeFailedPrecondition, "ginadapter.Mount",
			"the JSON and return routes read links and payments: the service's store must be a provider.Reader")
	}
	a := &api{
		svc:      svc,
		read:     read,
		provider: cb.p.Name(),
		maxBytes: cfg.MaxBodyBytes,
		redirect: cfg.ReturnRedirect,
		log:      cb.log,
		public:   cfg.APIPublic,
		recheck:  newRechecker(cfg.ReturnRecheckInterval, cfg.ReturnRechecksPerSecond, cfg.ReturnRecheckBurst, nil),
	}
	if cfg.APIPrefix != "" {
		a.statusBase = joinPath(base, cfg.APIPrefix, "links")
	}

	r.POST(cfg.CallbackPath, append(gin.HandlersChain{cb.serve}, cfg.CallbackHandlers...)...)
	routes := []any{"callback", joinPath(base, cfg.CallbackPath)}
	if cfg.APIPrefix != "" {
		var chain gin.HandlersChain
		if cfg.APIAuth != nil {
			chain = append(chain, cfg.APIAuth)
		}
		g := r.Group(cfg.APIPrefix, append(chain, cfg.APIMiddleware...)...)
		g.POST("/links", a.createLink)
		g.GET("/links/:id", a.getLink)
		routes = append(routes, "api", a.statusBase, "api_public", cfg.APIPublic)
	}
	if cfg.ReturnPath != "" {
		r.GET(cfg.ReturnPath+"/:link_id", a.returned)
		routes = append(routes, "return", joinPath(base, cfg.ReturnPath))
	}
	cb.log.Info("paylink: routes mounted", append([]any{"provider", cb.p.Name()}, routes...)...)
	return nil
}

// loggerOrDiscard returns l, or a logger that discards everything.
func loggerOrDiscard(l *slog.Logger) *slog.Logger {
	if l != nil {
		return l
	}
	return slog.New(slog.DiscardHandler)
}
