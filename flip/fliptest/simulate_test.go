package fliptest

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/paylinkgo/paylink/provider"
)

// flipCode returns the Flip code carried by a simulation error.
func flipCode(t *testing.T, err error) int {
	t.Helper()
	fields := provider.FieldErrorsOf(err)
	if len(fields) != 1 {
		t.Fatalf("error %v carries %d field errors", err, len(fields))
	}
	return fields[0].ProviderCode
}

func wantSimError(t *testing.T, err error, code provider.ErrorCode, flip int) {
	t.Helper()
	if !errors.Is(err, code) {
		t.Fatalf("err = %v, want %v", err, code)
	}
	if got := flipCode(t, err); got != flip {
		t.Errorf("Flip code = %d, want %d", got, flip)
	}
}

func TestPay_SingleBillIsUsedOnce(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Options{})
	a := newAPI(t, s)
	id := a.createBill(step1()...)
	ctx := t.Context()

	p, err := s.Pay(ctx, id, PayOptions{SenderName: "Budi", SenderEmail: "budi@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Status != PaymentSuccessful || p.Amount != 45_000 || p.LinkID != id || p.SenderName != "Budi" ||
		p.SenderBank != DefaultSenderBank || p.SenderBankType != VirtualAccount || p.CompletedAt.IsZero() {
		t.Errorf("payment = %+v", p)
	}
	b, _ := s.Bill(id)
	if b.Status != BillInactive || !b.Used {
		t.Errorf("bill after payment = %+v", b)
	}
	if m := a.get("/v2/pwf/" + id + "/bill").object(t); m["status"] != "INACTIVE" {
		t.Errorf("API status = %v", m["status"])
	}
	_, err = s.Pay(ctx, id, PayOptions{})
	wantSimError(t, err, provider.CodeConflict, 1049)
	_, err = s.Expire(ctx, id)
	wantSimError(t, err, provider.CodeConflict, 1049)
	_, err = s.Fail(ctx, id)
	wantSimError(t, err, provider.CodeConflict, 1049)
	if n := len(s.Payments(id)); n != 1 {
		t.Errorf("%d payments, want 1", n)
	}
}

func TestPay_MultipleBillCollectsMany(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Options{})
	a := newAPI(t, s)
	id := a.createBill(step1("type", "MULTIPLE")...)
	for i := range 3 {
		if _, err := s.Pay(t.Context(), id, PayOptions{}); err != nil {
			t.Fatalf("payment %d: %v", i, err)
		}
	}
	b, _ := s.Bill(id)
	if b.Status != BillActive || len(s.Payments(id)) != 3 {
		t.Errorf("bill %+v with %d payments", b, len(s.Payments(id)))
	}
}

func TestPay_Step3CompletesItsPendingPayment(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Options{})
	a := newAPI(t, s)
	id := a.createBill(step3()...)
	pending := s.Payments(id)
	if len(pending) != 1 || pending[0].Status != PaymentPending {
		t.Fatalf("payments at creation = %+v", pending)
	}
	// The step-3 method wins over the options.
	p, err := s.Pay(t.Context(), id, PayOptions{SenderBank: "bri"})
	if err != nil {
		t.Fatal(err)
	}
	if p.ID != pending[0].ID || p.VANumber != pending[0].VANumber || p.SenderBank != "mandiri" || p.SenderName != "Jon Snow" {
		t.Errorf("paid %+v, want the pending %+v", p, pending[0])
	}
	if n := len(s.Payments(id)); n != 1 {
		t.Errorf("%d payments, want 1", n)
	}
}

func TestPay_Amounts(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Options{})
	a := newAPI(t, s)
	open := a.createBill("title", "Donation", "type", "MULTIPLE")
	fixed := a.createBill(step1("type", "MULTIPLE")...)
	ctx := t.Context()

	_, err := s.Pay(ctx, open, PayOptions{})
	wantSimError(t, err, provider.CodeInvalidArgument, 1058)
	_, err = s.Pay(ctx, open, PayOptions{Amount: 9_999})
	wantSimError(t, err, provider.CodeInvalidArgument, 1058)
	_, err = s.Pay(ctx, fixed, PayOptions{Amount: -1})
	wantSimError(t, err, provider.CodeInvalidArgument, 1064)
	if p, err := s.Pay(ctx, open, PayOptions{Amount: 25_000}); err != nil || p.Amount != 25_000 {
		t.Errorf("open bill: %+v, %v", p, err)
	}
	// A fixed bill paid a different amount: the fake allows it, so that a
	// receiver's mismatch check can be tested.
	if p, err := s.Pay(ctx, fixed, PayOptions{Amount: 1_000}); err != nil || p.Amount != 1_000 {
		t.Errorf("mismatched amount: %+v, %v", p, err)
	}
}

func TestPay_Refusals(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Options{Channels: []Channel{{Bank: "bni", Type: VirtualAccount}, {Bank: "ovo", Type: WalletAccount}}})
	a := newAPI(t, s)
	id := a.createBill(step1("type", "MULTIPLE")...)
	ctx := t.Context()

	_, err := s.Pay(ctx, "404", PayOptions{})
	wantSimError(t, err, provider.CodeNotFound, 1050)
	_, err = s.Expire(ctx, "404")
	wantSimError(t, err, provider.CodeNotFound, 1050)
	_, err = s.Pay(ctx, id, PayOptions{SenderBank: "bca", SenderBankType: VirtualAccount})
	wantSimError(t, err, provider.CodeInvalidArgument, 1091)
	if p, err := s.Pay(ctx, id, PayOptions{SenderBank: "ovo", SenderBankType: WalletAccount}); err != nil || p.VANumber != "" {
		t.Errorf("ovo: %+v, %v", p, err)
	}

	a.send("PUT", "/v2/pwf/"+id+"/bill", form("status", "INACTIVE"))
	_, err = s.Pay(ctx, id, PayOptions{})
	wantSimError(t, err, provider.CodeFailedPrecondition, 1049)

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Pay(cancelled, id, PayOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled ctx: %v", err)
	}
}

func TestExpire(t *testing.T) {
	t.Parallel()
	clk := &clock{t: fixedNow}
	s := newTestServer(t, Options{Now: clk.Now})
	a := newAPI(t, s)
	ctx := t.Context()

	t.Run("a bill without payments gets a cancelled one", func(t *testing.T) {
		id := a.createBill(step1()...)
		p, err := s.Expire(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if p.Status != PaymentCancelled || p.Amount != 45_000 {
			t.Errorf("payment = %+v", p)
		}
		b, _ := s.Bill(id)
		if !b.Expired(clk.Now()) || !b.ExpiresAt.Equal(fixedNow) {
			t.Errorf("bill = %+v", b)
		}
		_, err = s.Pay(ctx, id, PayOptions{})
		wantSimError(t, err, provider.CodeFailedPrecondition, 1048)
		_, err = s.Fail(ctx, id)
		wantSimError(t, err, provider.CodeFailedPrecondition, 1048)
		if m := a.get("/v2/pwf/" + id + "/bill").object(t); m["expired_date"] != "2026-03-02 10:00:00" {
			t.Errorf("expired_date = %v", m["expired_date"])
		}
	})
	t.Run("a step-3 bill's pending payment is cancelled", func(t *testing.T) {
		id := a.createBill(step3()...)
		pending := s.Payments(id)[0]
		p, err := s.Expire(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if p.ID != pending.ID || p.Status != PaymentCancelled {
			t.Errorf("payment = %+v", p)
		}
	})
}

func TestExpiry_PassingCancelsPendingPayments(t *testing.T) {
	t.Parallel()
	clk := &clock{t: fixedNow}
	rc := newReceiver(t)
	s := newTestServer(t, Options{Now: clk.Now, CallbackURL: rc.url})
	a := newAPI(t, s)
	id := a.createBill(step3("expired_date", "2026-03-02 11:00")...)
	pending := s.Payments(id)[0]

	clk.Set(fixedNow.Add(59 * time.Minute))
	a.get("/v2/pwf/bill")
	if p, _ := s.Payment(pending.ID); p.Status != PaymentPending {
		t.Fatalf("cancelled before expiry: %+v", p)
	}
	clk.Set(fixedNow.Add(time.Hour))
	var got testPage
	a.get("/v2/pwf/"+id+"/payment").into(t, &got)
	if len(got.Data) != 1 || got.Data[0].Status != "CANCELLED" {
		t.Errorf("payments after expiry = %+v", got.Data)
	}
	if err := s.WaitDeliveries(testCtx(t), 1); err != nil {
		t.Fatal(err)
	}
	if seen := rc.statusesSeen(); len(seen) != 1 || seen[0] != "CANCELLED" {
		t.Errorf("callbacks = %v", seen)
	}
	_, err := s.Pay(t.Context(), id, PayOptions{})
	wantSimError(t, err, provider.CodeFailedPrecondition, 1048)
	if n := len(s.Callbacks()); n != 1 {
		t.Errorf("%d callbacks, want exactly one CANCELLED", n)
	}
}

func TestFail_LeavesTheBillOpen(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Options{})
	a := newAPI(t, s)
	ctx := t.Context()

	id := a.createBill(step1()...)
	p, err := s.Fail(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if p.Status != PaymentFailed || p.SenderBankType != BankAccount || p.UniqueCode == 0 {
		t.Errorf("failed payment = %+v", p)
	}
	if b, _ := s.Bill(id); b.Status != BillActive || b.Used {
		t.Errorf("bill = %+v", b)
	}
	paid, err := s.Pay(ctx, id, PayOptions{})
	if err != nil || paid.ID == p.ID {
		t.Errorf("pay after fail: %+v, %v", paid, err)
	}

	id3 := a.createBill(step3()...)
	pending := s.Payments(id3)[0]
	if p, err := s.Fail(ctx, id3); err != nil || p.ID != pending.ID || p.Status != PaymentFailed {
		t.Errorf("step 3 fail: %+v, %v", p, err)
	}
	// A new attempt of a step-3 bill uses its fixed method.
	if p, err := s.Pay(ctx, id3, PayOptions{}); err != nil || p.ID == pending.ID || p.SenderBank != "mandiri" {
		t.Errorf("step 3 pay after fail: %+v, %v", p, err)
	}
}

func TestQRIS_PayloadIsWellFormed(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Options{})
	a := newAPI(t, s)
	id := a.createBill(step3("sender_bank", "qris", "sender_bank_type", "wallet_account")...)
	r := a.send("POST", "/v2/pwf/bill", form(step3("sender_bank", "qris", "sender_bank_type", "wallet_account")...))
	acct := r.object(t)["bill_payment"].(map[string]any)["receiver_bank_account"].(map[string]any)
	qr, _ := acct["qr_code_data"].(string)
	if acct["account_number"] != nil || acct["account_type"] != "wallet_account" || qr == "" {
		t.Fatalf("receiver_bank_account = %v", acct)
	}
	if !strings.HasPrefix(qr, "000201") || !strings.Contains(qr, "ID.CO.QRIS.WWW") || !strings.Contains(qr, "540545000") {
		t.Errorf("qr = %q", qr)
	}
	body, sum := qr[:len(qr)-4], qr[len(qr)-4:]
	if !strings.HasSuffix(body, "6304") || !regexp.MustCompile(`^[0-9A-F]{4}$`).MatchString(sum) {
		t.Errorf("qr checksum field malformed: %q", qr)
	}
	// CRC-16/CCITT-FALSE of "123456789" is 0x29B1 (the standard check value).
	if got := crc16CCITT("123456789"); got != 0x29B1 {
		t.Errorf("crc = %04X", got)
	}
	if p := s.Payments(id)[0]; p.QRCodeData == "" {
		t.Errorf("payment = %+v", p)
	}
}
