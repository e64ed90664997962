package provider_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/paylinkgo/paylink/provider"
)

func TestCleanTextKeepsWhatAStoreCanHold(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"Budi", "Budi"},
		{"Bu\x00di", "Budi"},
		{"\x00\x00", ""},
		{"Bu\xff\xfedi", "Bu\uFFFDdi"},
		{"Bu\x00\xffdi", "Bu\uFFFDdi"},
		{"tab\tnewline\nbell\a", "tab\tnewline\nbell\a"},
		{"Bu\u202edi 💸", "Bu\u202edi 💸"},
		{"'; DROP TABLE paylink_payments; --", "'; DROP TABLE paylink_payments; --"},
	}
	for _, tt := range tests {
		if got := provider.CleanText(tt.in); got != tt.want {
			t.Errorf("CleanText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCheckIDRefusesWhatCannotBeAnID(t *testing.T) {
	t.Parallel()
	for _, id := range []string{"PGPWF1", "2502091430251230000", strings.Repeat("9", provider.MaxIDBytes), "../etc/passwd", "1' OR '1'='1"} {
		if err := provider.CheckID(id); err != nil {
			t.Errorf("CheckID(%q) = %v, want nil", id, err)
		}
	}
	for _, id := range []string{"", "PGPWF\x001", "PGPWF1\n", "\x7f", "PGPWF\xff", strings.Repeat("9", provider.MaxIDBytes+1)} {
		if err := provider.CheckID(id); !errors.Is(err, provider.CodeInvalidArgument) {
			t.Errorf("CheckID(%.40q) = %v, want CodeInvalidArgument", id, err)
		}
	}
}

// TestApplyEventCleansTextAndRefusesBadIDs: a genuine payment whose text
// a database would refuse is applied with the text cleaned; an event whose
// id cannot be an id is refused with field errors and stores nothing.
func TestApplyEventCleansTextAndRefusesBadIDs(t *testing.T) {
	t.Parallel()
	f := newFixture(t, provider.ServiceOptions{})
	l := f.link(t, 45000, provider.LinkSingle)

	ev := event(l.ID, "P1", provider.PaymentSuccessful, 45000)
	ev.Raw = []byte("data={\"sender_name\":\"Bu\\u0000di\"}")
	ev.Payment.RawStatus = "SUCCESSFUL\x00" + strings.Repeat(" ", 100)
	ev.Payment.Sender = provider.Customer{Name: "Bu\x00di", Email: "budi@example.com\x00", Phone: "0812\xff", Address: "Jl.\x00 Merdeka"}
	ev.Payment.Method = provider.PaymentMethod{Bank: "b\x00ni", Type: strings.Repeat("é", 100)}
	if out := f.apply(t, ev); out.Verdict != provider.VerdictApplied {
		t.Fatalf("verdict %s, want applied", out.Verdict)
	}
	p, err := f.store.GetPayment(t.Context(), "mem", "P1")
	if err != nil {
		t.Fatal(err)
	}
	want := provider.Customer{Name: "Budi", Email: "budi@example.com", Phone: "0812\uFFFD", Address: "Jl. Merdeka"}
	if p.Sender != want {
		t.Errorf("stored sender %+v, want %+v", p.Sender, want)
	}
	if p.Method.Bank != "bni" || p.Method.Type != strings.Repeat("é", provider.MaxCodeBytes/2) {
		t.Errorf("stored method %+v, want bni and the type cut to %d bytes", p.Method, provider.MaxCodeBytes)
	}
	if len(p.RawStatus) != provider.MaxCodeBytes || !strings.HasPrefix(p.RawStatus, "SUCCESSFUL ") {
		t.Errorf("stored raw status %q, want SUCCESSFUL without the NUL, cut to %d bytes", p.RawStatus, provider.MaxCodeBytes)
	}
	cbs, err := f.store.ListCallbacks(t.Context(), provider.CallbackFilter{PaymentID: "P1"})
	if err != nil || len(cbs) != 1 || string(cbs[0].Body) != string(ev.Raw) {
		t.Errorf("recorded callbacks %+v (%v), want one with the raw body as received", cbs, err)
	}

	for _, tt := range []struct {
		name, field   string
		paymentID, id string
	}{
		{"a NUL byte in the payment id", "payment.id", "P\x002", l.ID},
		{"a newline in the payment id", "payment.id", "P2\n", l.ID},
		{"a payment id over MaxIDBytes", "payment.id", strings.Repeat("P", provider.MaxIDBytes+1), l.ID},
		{"a NUL byte in the link id", "payment.link_id", "P2", l.ID + "\x00"},
		{"a link id over MaxIDBytes", "payment.link_id", "P2", strings.Repeat("9", provider.MaxIDBytes+1)},
	} {
		_, err := f.svc.ApplyEvent(t.Context(), event(tt.id, tt.paymentID, provider.PaymentSuccessful, 45000))
		if !errors.Is(err, provider.CodeInvalidArgument) {
			t.Errorf("%s: ApplyEvent error %v, want CodeInvalidArgument", tt.name, err)
			continue
		}
		named := false
		for _, fe := range provider.FieldErrorsOf(err) {
			named = named || fe.Field == tt.field
		}
		if !named {
			t.Errorf("%s: field errors %+v, want one for %s", tt.name, provider.FieldErrorsOf(err), tt.field)
		}
	}
	if cbs, err := f.store.ListCallbacks(t.Context(), provider.CallbackFilter{}); err != nil || len(cbs) != 1 {
		t.Errorf("callbacks recorded: %d (%v), want only the first", len(cbs), err)
	}
}
