package console

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/paylinkgo/paylink/provider"
)

// act does a and, once it is recorded, sends the operator to the page
// that shows it (303). A refused or failed action is answered with its
// status, naming the recorded action when there is one.
func (con *console) act(c *gin.Context, a provider.Action, page func(*provider.OperatorAction) string) {
	a.Actor = c.GetString(actorKey)
	rec, err := con.svc.Act(c, a)
	if err != nil {
		con.failErr(c, err, rec)
		return
	}
	c.Redirect(http.StatusSeeOther, page(rec)+"done="+strconv.FormatInt(rec.ID, 10))
}

// formTarget reads a provider and an id from the form.
func (con *console) formTarget(c *gin.Context) (name, id string, ok bool) {
	name, id = c.Request.PostForm.Get("provider"), c.Request.PostForm.Get("id")
	if name == "" || provider.CheckID(id) != nil {
		con.fail(c, http.StatusBadRequest, "the form needs a provider and an id")
		return "", "", false
	}
	if _, ok := con.providerOf(name); !ok {
		con.fail(c, http.StatusBadRequest, "unknown provider")
		return "", "", false
	}
	return name, id, true
}

func (con *console) paymentURL(name, id string) string {
	return con.base + "/payment?" + url.Values{"provider": {name}, "id": {id}}.Encode() + "&"
}

func (con *console) linkURL(name, id string) string {
	return con.base + "/link?" + url.Values{"provider": {name}, "id": {id}}.Encode() + "&"
}

func (con *console) reprocess(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		con.answer(c, err)
		return
	}
	con.act(c, provider.Action{Kind: provider.ActionReprocessCallback, CallbackID: id}, func(*provider.OperatorAction) string {
		return con.base + "/callbacks/" + strconv.FormatInt(id, 10) + "?"
	})
}

func (con *console) refetch(c *gin.Context) {
	name, id, ok := con.formTarget(c)
	if !ok {
		return
	}
	con.act(c, provider.Action{Kind: provider.ActionRefetchPayment, Provider: name, PaymentID: id}, func(*provider.OperatorAction) string {
		return con.paymentURL(name, id)
	})
}

func (con *console) reconcile(c *gin.Context) {
	name, id, ok := con.formTarget(c)
	if !ok {
		return
	}
	con.act(c, provider.Action{Kind: provider.ActionReconcileLink, Provider: name, LinkID: id}, func(*provider.OperatorAction) string {
		return con.linkURL(name, id)
	})
}

func (con *console) retry(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		con.answer(c, err)
		return
	}
	con.act(c, provider.Action{Kind: provider.ActionRetryHookRun, HookRunID: id}, func(*provider.OperatorAction) string {
		return con.base + "/hooks?"
	})
}
