package provider_test

import (
	"testing"
	"time"

	"github.com/paylinkgo/paylink/provider"
)

func TestFingerprintCountsEveryParameterButTheKey(t *testing.T) {
	expires := time.Date(2026, 5, 1, 17, 0, 0, 0, time.UTC)
	base := provider.CreateLinkParams{
		Title: "Order 42", Type: provider.LinkSingle, Amount: provider.Rupiah(45000), ExpiresAt: expires,
		RedirectURL: "https://shop.example/orders/42", Step: provider.StepConfirmation,
		Customer:       provider.Customer{Name: "Budi", Email: "budi@example.com", Phone: "0812", Address: "Jakarta"},
		Method:         provider.PaymentMethod{Bank: "bni", Type: "virtual_account"},
		RequireAddress: true, RequirePhone: true, IdempotencyKey: "order-42",
	}
	want := base.Fingerprint()
	if len(want) != 64 {
		t.Fatalf("Fingerprint() = %q, want 64 hex digits", want)
	}

	same := map[string]func(p *provider.CreateLinkParams){
		"another idempotency key":             func(p *provider.CreateLinkParams) { p.IdempotencyKey = "order-43" },
		"no idempotency key":                  func(p *provider.CreateLinkParams) { p.IdempotencyKey = "" },
		"the expiry in another time zone":     func(p *provider.CreateLinkParams) { p.ExpiresAt = expires.In(time.FixedZone("WIB", 7*3600)) },
		"the expiry with a fraction of a sec": func(p *provider.CreateLinkParams) { p.ExpiresAt = expires.Add(999 * time.Millisecond) },
	}
	for name, change := range same {
		p := base
		change(&p)
		if got := p.Fingerprint(); got != want {
			t.Errorf("%s changed the fingerprint", name)
		}
	}

	differ := map[string]func(p *provider.CreateLinkParams){
		"title":              func(p *provider.CreateLinkParams) { p.Title = "Order 43" },
		"title with a space": func(p *provider.CreateLinkParams) { p.Title = "Order 42 " },
		"type":               func(p *provider.CreateLinkParams) { p.Type = provider.LinkMultiple },
		"amount":             func(p *provider.CreateLinkParams) { p.Amount = provider.Rupiah(45001) },
		"currency":           func(p *provider.CreateLinkParams) { p.Amount.Currency = "USD" },
		"expiry":             func(p *provider.CreateLinkParams) { p.ExpiresAt = expires.Add(time.Second) },
		"no expiry":          func(p *provider.CreateLinkParams) { p.ExpiresAt = time.Time{} },
		"redirect URL":       func(p *provider.CreateLinkParams) { p.RedirectURL = "https://shop.example/orders/43" },
		"step":               func(p *provider.CreateLinkParams) { p.Step = provider.StepPaymentMethod },
		"customer name":      func(p *provider.CreateLinkParams) { p.Customer.Name = "Siti" },
		"customer email":     func(p *provider.CreateLinkParams) { p.Customer.Email = "siti@example.com" },
		"customer phone":     func(p *provider.CreateLinkParams) { p.Customer.Phone = "0813" },
		"customer address":   func(p *provider.CreateLinkParams) { p.Customer.Address = "Bandung" },
		"method bank":        func(p *provider.CreateLinkParams) { p.Method.Bank = "bri" },
		"method type":        func(p *provider.CreateLinkParams) { p.Method.Type = "wallet_account" },
		"address required":   func(p *provider.CreateLinkParams) { p.RequireAddress = false },
		"phone required":     func(p *provider.CreateLinkParams) { p.RequirePhone = false },
		"a value moved to a key": func(p *provider.CreateLinkParams) {
			p.Customer.Name, p.Customer.Email = p.Customer.Email, p.Customer.Name
		},
	}
	seen := map[string]string{want: "the base"}
	for name, change := range differ {
		p := base
		change(&p)
		got := p.Fingerprint()
		if prev, dup := seen[got]; dup {
			t.Errorf("changing the %s gives the fingerprint of %s", name, prev)
		}
		seen[got] = name
	}
}

func TestFingerprintOfDefaultsEqualsTheirZeroValues(t *testing.T) {
	zero := provider.CreateLinkParams{Title: "Order", Amount: provider.Money{Amount: 45000}}
	explicit := provider.CreateLinkParams{Title: "Order", Amount: provider.Rupiah(45000), Type: provider.LinkSingle, Step: provider.StepInputData}
	if zero.Fingerprint() != explicit.Fingerprint() {
		t.Error("leaving Type, Step and the currency at their defaults and setting the defaults give different fingerprints")
	}
	// Field boundaries are part of the encoding: no value can pose as two.
	a := provider.CreateLinkParams{Title: "a\ncustomer.name=1:b", Amount: provider.Rupiah(1)}
	b := provider.CreateLinkParams{Title: "a", Amount: provider.Rupiah(1), Customer: provider.Customer{Name: "b"}}
	if a.Fingerprint() == b.Fingerprint() {
		t.Error("a title that spells out another field collides with that field")
	}
}

func TestLinkQueryMatches(t *testing.T) {
	at := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	q := provider.LinkQuery{Title: "Order 42", Amount: provider.Rupiah(45000), CreatedFrom: at}
	link := func(change func(l *provider.Link)) *provider.Link {
		l := &provider.Link{Title: "Order 42", Type: provider.LinkSingle, Amount: provider.Rupiah(45000), CreatedAt: at}
		change(l)
		return l
	}
	for _, c := range []struct {
		name string
		l    *provider.Link
		want bool
	}{
		{"the same link", link(func(*provider.Link) {}), true},
		{"created later", link(func(l *provider.Link) { l.CreatedAt = at.Add(time.Hour) }), true},
		{"no creation time (Flip's bills)", link(func(l *provider.Link) { l.CreatedAt = time.Time{} }), true},
		{"the title trimmed by the provider", link(func(l *provider.Link) { l.Title = " Order 42\n" }), true},
		{"no type or currency given", link(func(l *provider.Link) { l.Type, l.Amount.Currency = "", "" }), true},
		{"created before", link(func(l *provider.Link) { l.CreatedAt = at.Add(-time.Second) }), false},
		{"another title", link(func(l *provider.Link) { l.Title = "Order 43" }), false},
		{"another case", link(func(l *provider.Link) { l.Title = "order 42" }), false},
		{"another type", link(func(l *provider.Link) { l.Type = provider.LinkMultiple }), false},
		{"another amount", link(func(l *provider.Link) { l.Amount = provider.Rupiah(45001) }), false},
		{"an open amount", link(func(l *provider.Link) { l.Amount = provider.Money{} }), false},
	} {
		if got := q.Matches(c.l); got != c.want {
			t.Errorf("%s: Matches = %v, want %v", c.name, got, c.want)
		}
	}
}
