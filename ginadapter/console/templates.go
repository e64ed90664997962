package console

import (
	"html/template"
	"net/url"
	"strconv"
	"time"

	"github.com/paylinkgo/paylink/provider"
)

// pageNames are the templates beside layout.html, one per page.
var pageNames = []string{"inbox", "callback", "payment", "link", "hooks", "actions", "error"}

func parseTemplates() (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		"when": func(t time.Time) string {
			if t.IsZero() {
				return "—"
			}
			return t.UTC().Format("2006-01-02 15:04:05 UTC")
		},
		"flagged": func(v provider.Verdict) bool { return v.Flagged() },
		"paymentHref": func(base, name, id string) string {
			return base + "/payment?" + url.Values{"provider": {name}, "id": {id}}.Encode()
		},
		"linkHref": func(base, name, id string) string {
			return base + "/link?" + url.Values{"provider": {name}, "id": {id}}.Encode()
		},
		"id":         func(n int64) string { return strconv.FormatInt(n, 10) },
		"actionView": func(acts []provider.OperatorAction) actionView { return actionView{Actions: acts} },
		"runView":    func(p page, runs []provider.HookRun) runView { return runView{Page: p, Runs: runs} },
		"redact":     redactText,
	}
	out := make(map[string]*template.Template, len(pageNames))
	for _, name := range pageNames {
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/shared.html", "templates/"+name+".html")
		if err != nil {
			return nil, err
		}
		out[name] = t
	}
	return out, nil
}

// runView is what the "runs" table shows.
type runView struct {
	Page page
	Runs []provider.HookRun
}

// actionView is what the "actionlist" table shows.
type actionView struct {
	Actions []provider.OperatorAction
	Done    int64
}
