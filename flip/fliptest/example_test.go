package fliptest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"

	"github.com/paylinkgo/paylink/flip"
	"github.com/paylinkgo/paylink/flip/fliptest"
	"github.com/paylinkgo/paylink/provider"
)

// A test creates a bill through the fake's API, as a Flip client would,
// simulates the customer paying it, and receives Flip's callback.
func Example() {
	ctx := context.Background()
	callbacks := make(chan url.Values, 1)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		callbacks <- r.PostForm
	}))
	defer receiver.Close()

	fake := fliptest.NewServer(fliptest.Options{
		SecretKey:     "my-sandbox-key",
		CallbackToken: "my-callback-token",
		CallbackURL:   receiver.URL,
	})
	defer fake.Close()

	// Create Bill, step 1, exactly as Flip's own sample sends it.
	body := url.Values{"title": {"Coffee"}, "type": {"SINGLE"}, "amount": {"45000"}, "step": {"1"}}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, fake.URL+"/v2/pwf/bill", strings.NewReader(body.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("my-sandbox-key", "")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var bill struct {
		LinkID json.Number `json:"link_id"`
		Status string      `json:"status"`
	}
	_ = json.Unmarshal(raw, &bill)
	fmt.Println("bill", bill.LinkID, bill.Status)

	// The customer pays; Flip calls back.
	p, err := fake.Pay(ctx, bill.LinkID.String(), fliptest.PayOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("payment", p.Status, p.Amount)

	select {
	case cb := <-callbacks:
		var data fliptest.CallbackData
		_ = json.Unmarshal([]byte(cb.Get("data")), &data)
		fmt.Println("callback", data.Status, data.BillLinkID, data.ID == p.ID, cb.Get("token"))
	case <-time.After(30 * time.Second):
		fmt.Println("no callback")
	}
	b, _ := fake.Bill(bill.LinkID.String())
	fmt.Println("bill now", b.Status)
	// Output:
	// bill 1 ACTIVE
	// payment SUCCESSFUL 45000
	// callback SUCCESSFUL 1 true my-callback-token
	// bill now INACTIVE
}

// Hold callbacks, then release them newest first: the receiver sees a
// stale CANCELLED before the SUCCESSFUL that it contradicts.
func ExampleServer_Release() {
	ctx := context.Background()
	statuses := make(chan string, 2)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var data fliptest.CallbackData
		_ = json.Unmarshal([]byte(r.FormValue("data")), &data)
		statuses <- string(data.Status)
	}))
	defer receiver.Close()
	fake := fliptest.NewServer(fliptest.Options{SecretKey: "key", CallbackURL: receiver.URL})
	defer fake.Close()

	id := createBill(fake, "title=Tea&type=SINGLE&amount=20000")
	fake.SetCallbackMode(fliptest.CallbackMode{Hold: true})
	p, _ := fake.Pay(ctx, id, fliptest.PayOptions{})
	_ = fake.SendCallback(ctx, p.ID, fliptest.PaymentCancelled)
	fmt.Println("released", fake.Release(fliptest.ReleaseReversed))
	fmt.Println(<-statuses, <-statuses)
	// Output:
	// released 2
	// CANCELLED SUCCESSFUL
}

// createBill creates a bill from a form body and returns its link id.
func createBill(fake *fliptest.Server, form string) string {
	req, _ := http.NewRequest(http.MethodPost, fake.URL+"/v2/pwf/bill", strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("key", "")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	var bill struct {
		LinkID json.Number `json:"link_id"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&bill)
	return bill.LinkID.String()
}

// Options make the fake answer as loosely as Flip's own examples, so that
// a client's tolerance is tested end to end: here, "null" strings and
// string-typed numbers in payment lists, and a 422 for a bill that has no
// payment yet.
func ExampleQuirks() {
	ctx := context.Background()
	fake := fliptest.NewServer(fliptest.Options{
		SecretKey:         "my-sandbox-key",
		EmptyPaymentsCode: 1050,
		Quirks:            fliptest.Quirks{NullStrings: true, StringNumbers: true, DecimalAmounts: true},
	})
	defer fake.Close()

	p := flip.NewProvider(fake.Client(), flip.ProviderOptions{})
	link, _ := p.CreateLink(ctx, provider.CreateLinkParams{Title: "Coffee", Amount: provider.Rupiah(45000)})
	pays, err := p.ListLinkPayments(ctx, link) // Flip: 422 code 1050
	fmt.Println(len(pays), err)

	_, _ = fake.Pay(ctx, link.ID, fliptest.PayOptions{})
	pays, err = p.ListLinkPayments(ctx, link) // "amount":"45000.00", "reference_id":"null"
	fmt.Println(len(pays), pays[0].Amount.Amount, pays[0].Status, err)
	// Output:
	// 0 <nil>
	// 1 45000 SUCCESSFUL <nil>
}
