package console

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/paylinkgo/paylink/provider"
)

// badInput is a request the console cannot read: answered 400.
type badInput string

func (b badInput) Error() string { return string(b) }

// query reads and checks the query string; the first problem is kept.
type query struct {
	c   *gin.Context
	con *console
	err error
}

func (q *query) bad(format string, args ...any) {
	if q.err == nil {
		q.err = badInput(fmt.Sprintf(format, args...))
	}
}

// provider reads a provider name, which must be one of the service's; ""
// when absent.
func (q *query) provider(name string) string {
	v := q.c.Query(name)
	if v != "" && !slices.Contains(q.con.providerNames(), v) {
		q.bad("unknown provider %.60q", v)
	}
	return v
}

// id reads a provider id (payment, link); "" when absent.
func (q *query) id(name string) string {
	v := q.c.Query(name)
	if v != "" && provider.CheckID(v) != nil {
		q.bad("%s is not an id", name)
		return ""
	}
	return v
}

// int reads a positive integer; 0 when absent.
func (q *query) int(name string) int64 {
	v := q.c.Query(name)
	if v == "" {
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		q.bad("%s must be a positive number", name)
		return 0
	}
	return n
}

// limit reads the page size.
func (q *query) limit() int {
	n := q.int("limit")
	switch {
	case n == 0:
		return DefaultPageSize
	case n > MaxPageSize:
		q.bad("limit must be at most %d", MaxPageSize)
	}
	return int(n)
}

// bool reads a checkbox: absent, "", "0", "false" or "off" is false;
// "1", "true" or "on" is true.
func (q *query) bool(name string) bool {
	switch q.c.Query(name) {
	case "", "0", "false", "off":
		return false
	case "1", "true", "on":
		return true
	}
	q.bad("%s must be true or false", name)
	return false
}

func pathID(c *gin.Context) (int64, error) {
	n, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || n <= 0 {
		return 0, badInput("the id in the path must be a positive number")
	}
	return n, nil
}

// answer reports err: 400 for bad input, else by its code.
func (con *console) answer(c *gin.Context, err error) {
	if b, ok := errors.AsType[badInput](err); ok {
		con.fail(c, http.StatusBadRequest, string(b))
		return
	}
	con.failErr(c, err, nil)
}

type inboxPage struct {
	Filter    provider.CallbackFilter
	Limit     int
	Verdicts  []provider.Verdict
	Providers []string
	Callbacks []provider.CallbackRecord
	// Reprocessed holds, for the flagged callbacks shown that an operator
	// reprocessed, the latest such action: the inbox keeps a callback as it
	// was received, and this says what became of it.
	Reprocessed map[int64]*provider.OperatorAction
	// Next is the URL of the next page, "" on the last.
	Next template.URL
}

// reprocessActionsRead bounds the actions the inbox reads for one page.
const reprocessActionsRead = 1000

// reprocessed returns the latest reprocess action of each flagged callback
// in cbs that has one.
func (con *console) reprocessed(c *gin.Context, cbs []provider.CallbackRecord) (map[int64]*provider.OperatorAction, error) {
	var ids []int64
	for _, cb := range cbs {
		if cb.Verdict.Flagged() {
			ids = append(ids, cb.ID)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	acts, err := con.log.ListActions(c, provider.ActionFilter{
		Kind: provider.ActionReprocessCallback, CallbackIDs: ids, Limit: reprocessActionsRead,
	})
	if err != nil {
		return nil, err
	}
	latest := make(map[int64]*provider.OperatorAction, len(acts))
	for i, a := range acts { // newest first
		if _, seen := latest[a.CallbackID]; !seen {
			latest[a.CallbackID] = &acts[i]
		}
	}
	return latest, nil
}

func (con *console) inbox(c *gin.Context) {
	q := &query{c: c, con: con}
	f := provider.CallbackFilter{
		Provider: q.provider("provider"), PaymentID: q.id("payment"), LinkID: q.id("link"),
		Flagged: q.bool("flagged"), BeforeID: q.int("before"), Limit: q.limit(),
	}
	if v := provider.Verdict(c.Query("verdict")); v != "" {
		if !slices.Contains(provider.Verdicts(), v) {
			q.bad("unknown verdict %.40q", v)
		}
		f.Verdict = v
	}
	if q.err != nil {
		con.answer(c, q.err)
		return
	}
	cbs, err := con.read.ListCallbacks(c, f)
	if err != nil {
		con.answer(c, err)
		return
	}
	p := inboxPage{Filter: f, Limit: f.Limit, Verdicts: provider.Verdicts(), Providers: con.providerNames(), Callbacks: cbs}
	if p.Reprocessed, err = con.reprocessed(c, cbs); err != nil {
		con.answer(c, err)
		return
	}
	if len(cbs) == f.Limit {
		next := url.Values{}
		for k, v := range map[string]string{"provider": f.Provider, "payment": f.PaymentID, "link": f.LinkID, "verdict": string(f.Verdict)} {
			if v != "" {
				next.Set(k, v)
			}
		}
		if f.Flagged {
			next.Set("flagged", "1")
		}
		if c.Query("limit") != "" {
			next.Set("limit", strconv.Itoa(f.Limit))
		}
		next.Set("before", strconv.FormatInt(cbs[len(cbs)-1].ID, 10))
		p.Next = template.URL(con.base + "/?" + next.Encode()) // built here from checked values
	}
	con.render(c, http.StatusOK, "inbox", "Callback inbox", p)
}

type callbackPage struct {
	Callback *provider.CallbackRecord
	Body     string
	Actions  []provider.OperatorAction
	Done     int64
}

func (con *console) callback(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		con.answer(c, err)
		return
	}
	q := &query{c: c, con: con}
	done := q.int("done")
	if q.err != nil {
		con.answer(c, q.err)
		return
	}
	cbs, err := con.read.ListCallbacks(c, provider.CallbackFilter{ID: id, Limit: 1})
	if err == nil && len(cbs) == 0 {
		err = provider.Errorf(provider.CodeNotFound, "console.callback", "callback %d not found", id)
	}
	if err != nil {
		con.answer(c, err)
		return
	}
	cb := &cbs[0]
	acts, err := con.log.ListActions(c, provider.ActionFilter{CallbackID: id, Limit: MaxPageSize})
	if err != nil {
		con.answer(c, err)
		return
	}
	con.render(c, http.StatusOK, "callback", "Callback "+strconv.FormatInt(id, 10),
		callbackPage{Callback: cb, Body: con.redact(cb), Actions: acts, Done: done})
}

// redact returns a callback's body as a person may see it: the provider's
// own redaction ([provider.CallbackRedactor]), or, for a provider without
// one, every field whose name suggests a secret ([provider.SecretField]).
func (con *console) redact(cb *provider.CallbackRecord) string {
	body := cb.Body
	if p, ok := con.providerOf(cb.Provider); ok {
		if r, ok := p.(provider.CallbackRedactor); ok {
			body = r.RedactCallback(body)
			// Still hide anything that looks like a secret.
			return string(provider.RedactFields(body, provider.SecretField))
		}
	}
	return string(provider.RedactFields(body, provider.SecretField))
}

type paymentPage struct {
	Provider  string
	ID        string
	Payment   *provider.Payment
	History   []provider.StatusChange
	Callbacks []provider.CallbackRecord
	Runs      []provider.HookRun
	NoQueue   bool
	Actions   []provider.OperatorAction
	Done      int64
}

func (con *console) payment(c *gin.Context) {
	q := &query{c: c, con: con}
	name, id, done := q.provider("provider"), q.id("id"), q.int("done")
	if q.err == nil && (name == "" || id == "") {
		q.bad("a payment page needs provider and id")
	}
	if q.err != nil {
		con.answer(c, q.err)
		return
	}
	st := con.read
	p := paymentPage{Provider: name, ID: id, Done: done}
	pay, err := con.svc.Store().GetPayment(c, name, id)
	switch {
	case err == nil:
		p.Payment = pay
	case provider.CodeOf(err) != provider.CodeNotFound:
		con.answer(c, err)
		return
	}
	if p.History, err = st.ListStatusChanges(c, name, id); err != nil {
		con.answer(c, err)
		return
	}
	if p.Callbacks, err = st.ListCallbacks(c, provider.CallbackFilter{Provider: name, PaymentID: id, Limit: MaxPageSize}); err != nil {
		con.answer(c, err)
		return
	}
	if p.Runs, p.NoQueue, err = con.paymentRuns(c, name, id); err != nil {
		con.answer(c, err)
		return
	}
	if p.Actions, err = con.log.ListActions(c, provider.ActionFilter{Provider: name, PaymentID: id, Limit: MaxPageSize}); err != nil {
		con.answer(c, err)
		return
	}
	if p.Payment == nil && len(p.Callbacks) == 0 {
		con.fail(c, http.StatusNotFound, "no payment "+id+" of "+name+" is stored, and no callback names it")
		return
	}
	con.render(c, http.StatusOK, "payment", "Payment "+id, p)
}

// paymentRuns returns the hook runs of a payment's events.
func (con *console) paymentRuns(c *gin.Context, name, id string) ([]provider.HookRun, bool, error) {
	if _, ok := con.svc.Store().(provider.HookQueue); !ok {
		return nil, true, nil
	}
	runs, err := con.read.ListHookRuns(c, provider.HookRunFilter{Provider: name, PaymentID: id, Limit: MaxPageSize})
	return runs, false, err
}

type linkPage struct {
	Provider  string
	ID        string
	Link      *provider.Link
	Payments  []provider.Payment
	Callbacks []provider.CallbackRecord
	Actions   []provider.OperatorAction
	Done      int64
}

func (con *console) link(c *gin.Context) {
	q := &query{c: c, con: con}
	name, id, done := q.provider("provider"), q.id("id"), q.int("done")
	if q.err == nil && (name == "" || id == "") {
		q.bad("a link page needs provider and id")
	}
	if q.err != nil {
		con.answer(c, q.err)
		return
	}
	st := con.read
	p := linkPage{Provider: name, ID: id, Done: done}
	l, err := con.svc.Store().GetLink(c, name, id)
	switch {
	case err == nil:
		p.Link = l
		if p.Payments, err = st.ListLinkPayments(c, name, id); err != nil {
			con.answer(c, err)
			return
		}
	case provider.CodeOf(err) != provider.CodeNotFound:
		con.answer(c, err)
		return
	}
	if p.Callbacks, err = st.ListCallbacks(c, provider.CallbackFilter{Provider: name, LinkID: id, Limit: MaxPageSize}); err != nil {
		con.answer(c, err)
		return
	}
	if p.Actions, err = con.log.ListActions(c, provider.ActionFilter{Provider: name, LinkID: id, Limit: MaxPageSize}); err != nil {
		con.answer(c, err)
		return
	}
	if p.Link == nil && len(p.Callbacks) == 0 {
		con.fail(c, http.StatusNotFound, "no link "+id+" of "+name+" is stored, and no callback names it")
		return
	}
	con.render(c, http.StatusOK, "link", "Link "+id, p)
}

type hooksPage struct {
	NoQueue bool
	State   provider.HookRunState
	States  []provider.HookRunState
	Limit   int
	// Sections are the runs by state, failed first.
	Sections []hookSection
	Actions  []provider.OperatorAction
	Done     int64
}

type hookSection struct {
	State provider.HookRunState
	Runs  []provider.HookRun
	// Full is true when the section shows Limit runs and may have more.
	Full bool
}

func hookStates() []provider.HookRunState {
	return []provider.HookRunState{provider.HookRunFailed, provider.HookRunRetrying, provider.HookRunPending, provider.HookRunSucceeded}
}

func (con *console) hooks(c *gin.Context) {
	q := &query{c: c, con: con}
	limit, done := q.limit(), q.int("done")
	state := provider.HookRunState(c.Query("state"))
	if state != "" && !slices.Contains(hookStates(), state) {
		q.bad("unknown state %.40q", state)
	}
	if q.err != nil {
		con.answer(c, q.err)
		return
	}
	p := hooksPage{State: state, States: hookStates(), Limit: limit, Done: done}
	if _, ok := con.svc.Store().(provider.HookQueue); !ok {
		p.NoQueue = true
		con.render(c, http.StatusOK, "hooks", "Hook runs", p)
		return
	}
	states := []provider.HookRunState{provider.HookRunFailed, provider.HookRunRetrying, provider.HookRunPending}
	if state != "" {
		states = []provider.HookRunState{state}
	}
	for _, st := range states {
		runs, err := con.read.ListHookRuns(c, provider.HookRunFilter{State: st, Limit: limit})
		if err != nil {
			con.answer(c, err)
			return
		}
		p.Sections = append(p.Sections, hookSection{State: st, Runs: runs, Full: len(runs) == limit})
	}
	acts, err := con.log.ListActions(c, provider.ActionFilter{Kind: provider.ActionRetryHookRun, Limit: 20})
	if err != nil {
		con.answer(c, err)
		return
	}
	p.Actions = acts
	con.render(c, http.StatusOK, "hooks", "Hook runs", p)
}

type actionsPage struct {
	Actor   string
	Kinds   []provider.ActionKind
	Kind    provider.ActionKind
	Actions []provider.OperatorAction
}

func (con *console) actions(c *gin.Context) {
	q := &query{c: c, con: con}
	limit := q.limit()
	actor := c.Query("actor")
	if len(actor) > provider.MaxActorBytes {
		q.bad("actor is too long")
	}
	kind := provider.ActionKind(c.Query("kind"))
	if kind != "" && !kind.Valid() {
		q.bad("unknown action %.40q", kind)
	}
	if q.err != nil {
		con.answer(c, q.err)
		return
	}
	acts, err := con.log.ListActions(c, provider.ActionFilter{Actor: actor, Kind: kind, Limit: limit})
	if err != nil {
		con.answer(c, err)
		return
	}
	con.render(c, http.StatusOK, "actions", "Action log", actionsPage{Actor: actor, Kinds: provider.ActionKinds(), Kind: kind, Actions: acts})
}

// providerNames lists the service's providers by name.
func (con *console) providerNames() []string {
	var names []string
	for _, p := range con.svc.Providers() {
		names = append(names, p.Name())
	}
	return names
}

// providerOf returns the service's provider called name.
func (con *console) providerOf(name string) (provider.Provider, bool) {
	if name == "" {
		return nil, false
	}
	p, err := provider.Named(con.svc.Providers(), name)
	return p, err == nil
}
