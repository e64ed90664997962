package flip_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/paylinkgo/paylink/flip"
	"github.com/paylinkgo/paylink/provider"
)

// Build the callback Flip would send, then verify and decode it as a
// callback handler does.
func ExampleParseCallback() {
	const token = "my-validation-token"
	req, err := flip.NewCallbackRequest(context.Background(), "https://shop.example/flip/callback", token, flip.Callback{
		ID:         "PGPWF10117252588865176637",
		BillLinkID: "130110",
		BillTitle:  "Order 17",
		SenderName: "Jon Snow",
		SenderBank: "mandiri",
		Amount:     45000,
		Status:     "SUCCESSFUL",
		CreatedAt:  time.Date(2024, 9, 2, 13, 34, 46, 0, flip.Location()),
	})
	if err != nil {
		panic(err)
	}

	cb, err := flip.ParseCallback(req, token, 0)
	if err != nil {
		panic(err)
	}
	status, _ := flip.MapPaymentStatus(cb.Status)
	fmt.Println(cb.ID, cb.BillLinkID, cb.Amount, status)
	fmt.Println(cb.CreatedAt.UTC())

	// A forged callback is refused.
	forged, _ := flip.NewCallbackRequest(context.Background(), "https://shop.example/flip/callback", "guess", flip.Callback{
		ID: "X", BillLinkID: "1", Amount: 10000, Status: "SUCCESSFUL"})
	_, err = flip.ParseCallback(forged, token, 0)
	fmt.Println(errors.Is(err, flip.ErrInvalidToken), errors.Is(err, provider.CodeUnauthenticated))
	// Output:
	// PGPWF10117252588865176637 130110 45000 SUCCESSFUL
	// 2024-09-02 06:34:46 +0000 UTC
	// true true
}

// Create a step-1 bill. The server here stands in for Flip; in production
// leave BaseURL empty and set Environment.
func ExampleClient_CreateBill() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"link_id":130068,"link_url":"flip.id/pwf-sandbox/$testflip/#test-1542","title":"Order 17",`+
			`"type":"SINGLE","amount":45000,"redirect_url":"https://example.com","expired_date":null,"created_from":"API",`+
			`"status":"ACTIVE","is_address_required":0,"is_phone_number_required":0,"step":1}`)
	}))
	defer srv.Close()

	c, err := flip.NewClient("your-secret-key", flip.Options{BaseURL: srv.URL})
	if err != nil {
		panic(err)
	}
	bill, err := c.CreateBill(context.Background(), flip.CreateBillParams{
		Title:       "Order 17",
		Type:        flip.BillSingle,
		Amount:      45000,
		RedirectURL: "https://example.com",
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(bill.LinkID, bill.Status)
	fmt.Println(bill.LinkURL)
	// Output:
	// 130068 ACTIVE
	// https://flip.id/pwf-sandbox/$testflip/#test-1542
}

// Parameters are checked with Flip's rules before anything is sent.
func ExampleClient_CreateBill_validation() {
	c, _ := flip.NewClient("your-secret-key", flip.Options{})
	_, err := c.CreateBill(context.Background(), flip.CreateBillParams{
		Title:  "Order 18",
		Type:   flip.BillSingle,
		Amount: 45000,
		Step:   flip.StepPaymentMethod, // step 2 needs the customer
	})
	fmt.Println(errors.Is(err, provider.CodeInvalidArgument))
	for _, f := range provider.FieldErrorsOf(err) {
		fmt.Println(f.Field, f.Rule)
	}
	// Output:
	// true
	// sender_name required
	// sender_email required
}

// Flip's errors carry a portable code.
func ExampleAPIError() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnprocessableEntity)
		io.WriteString(w, `{"code":"VALIDATION_ERROR","errors":[{"attribute":"bill_link_id","code":1050,"message":"Bill link ID is not Found"}]}`)
	}))
	defer srv.Close()

	c, _ := flip.NewClient("your-secret-key", flip.Options{BaseURL: srv.URL})
	_, err := c.GetBill(context.Background(), "404404")
	var apiErr *flip.APIError
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.StatusCode, apiErr.Code, apiErr.Errors[0].Code)
	}
	fmt.Println(errors.Is(err, provider.CodeNotFound))
	fmt.Println(err)
	// Output:
	// 422 VALIDATION_ERROR 1050
	// true
	// flip.GetBill: flip API error 422 VALIDATION_ERROR (bill_link_id: Bill link ID is not Found [1050])
}

func ExampleStatusMappings() {
	for _, m := range flip.StatusMappings() {
		fmt.Printf("%-13s -> %s\n", m.Raw, m.Status)
	}
	// Output:
	// SUCCESSFUL    -> SUCCESSFUL
	// PENDING       -> PENDING
	// FAILED        -> FAILED
	// CANCELLED     -> CANCELLED
	// CANCELED      -> CANCELLED
	// EXPIRED       -> CANCELLED
	// NOT_CONFIRMED -> PENDING
	// PROCESSED     -> PENDING
	// DONE          -> SUCCESSFUL
}

// During a token rotation, callbacks carrying either token are accepted,
// and the verifier says which one matched, for the logs.
func ExampleCallbackVerifier() {
	v := flip.CallbackVerifier{Token: "new-token", PreviousToken: "old-token"}
	for _, sent := range []string{"new-token", "old-token", "guess"} {
		req, _ := flip.NewCallbackRequest(context.Background(), "https://shop.example/flip/callback", sent,
			flip.Callback{ID: "PGPWF1", BillLinkID: "130110", Amount: 45000, Status: "SUCCESSFUL"})
		cb, err := v.Parse(req)
		if err != nil {
			fmt.Println(sent, "->", err)
			continue
		}
		fmt.Println(sent, "->", cb.MatchedToken)
	}
	// Output:
	// new-token -> current
	// old-token -> previous
	// guess -> flip: callback token invalid
}

// One odd field never fails a payment: it is listed in Problems and the
// rest is read.
func ExamplePayment_UnmarshalJSON() {
	var p flip.Payment
	err := json.Unmarshal([]byte(`{"id":"PGPWF1","link_id":110561,"amount":"45000.00","status":"SUCCESSFUL",
		"created_at":"2024-06-13 10:49:10","completed_at":"null","settlement_date":"soon"}`), &p)
	fmt.Println(err)
	fmt.Println(p.ID, p.LinkID, p.Amount, p.Status, p.CreatedAt.Format(time.DateTime), p.CompletedAt.IsZero())
	for _, pr := range p.Problems {
		fmt.Println("problem:", pr.Field, pr.Value)
	}
	// Output:
	// <nil>
	// PGPWF1 110561 45000 SUCCESSFUL 2024-06-13 10:49:10 true
	// problem: settlement_date "soon"
}
