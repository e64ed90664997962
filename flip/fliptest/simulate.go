package fliptest

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/paylinkgo/paylink/provider"
)

// Defaults for the payer of a simulated payment when neither the bill nor
// the PayOptions name one.
const (
	DefaultSenderName  = "Fliptest Customer"
	DefaultSenderEmail = "customer@example.com"
	DefaultSenderBank  = "bni"
)

// PayOptions shape a simulated payment. Every field is optional.
type PayOptions struct {
	// Amount is what the customer pays. 0 pays the bill's amount; an open
	// bill (amount 0) needs one of at least MinAmount. A fixed bill may be
	// paid a different amount, to test how a receiver treats a mismatch.
	Amount int64 `json:"amount,omitempty"`
	// SenderName and SenderEmail default to the bill's customer, then to
	// DefaultSenderName and DefaultSenderEmail.
	SenderName  string `json:"sender_name,omitempty"`
	SenderEmail string `json:"sender_email,omitempty"`
	// SenderBank and SenderBankType choose the channel for steps 1 and 2
	// (default bni virtual_account); a step-3 bill's own method always
	// wins. The channel must be enabled (Flip's 1091 otherwise).
	SenderBank     string   `json:"sender_bank,omitempty"`
	SenderBankType BankType `json:"sender_bank_type,omitempty"`
	// ReferenceID sets the payment's reference_id (the Get All Payments
	// filter of that name matches it).
	ReferenceID string `json:"reference_id,omitempty"`
}

// paymentSpec is what a new payment is made of.
type paymentSpec struct {
	amount      int64
	name, email string
	method      Channel
	referenceID string
}

// newPaymentLocked stores a new PENDING payment of b.
func (s *Server) newPaymentLocked(b *bill, spec paymentSpec, now time.Time) *payment {
	s.seq++
	n := s.salt*1_000_000 + s.seq%1_000_000
	p := &payment{seq: s.seq, Payment: Payment{
		// "PGPWF" + "1011" + unix seconds + 6 digits: 25 characters, like
		// Flip's PGPWF10117252552383992345.
		ID:             fmt.Sprintf("PGPWF1011%010d%06d", now.Unix()%10_000_000_000, (s.salt+s.seq)%1_000_000),
		LinkID:         b.LinkID,
		BillLink:       schemeless(b.LinkURL),
		BillTitle:      b.Title,
		Amount:         spec.amount,
		Status:         PaymentPending,
		SenderName:     spec.name,
		SenderEmail:    spec.email,
		SenderBank:     spec.method.Bank,
		SenderBankType: spec.method.Type,
		ReferenceID:    spec.referenceID,
		CreatedAt:      now,
	}}
	p.PaymentURL = s.URL + "/pwf/transaction/" + p.ID
	switch {
	case spec.method.Type == VirtualAccount:
		p.VANumber = vaNumber(spec.method.Bank, n)
	case spec.method.Bank == "qris":
		p.QRCodeData = qrisPayload(s.opts.CompanyCode, spec.amount, p.ID)
	case spec.method.Type == BankAccount:
		p.UniqueCode = 100 + s.seq%900
	}
	s.payments[p.ID] = p
	s.payOrder = append(s.payOrder, p)
	return p
}

// vaNumber is a virtual account number: 17 digits for mandiri (as in
// Flip's sample), 16 for the other banks.
func vaNumber(bank string, n int64) string {
	if bank == "mandiri" {
		return "65143" + leftPad(n%1_000_000_000_000, 12)
	}
	return "8808" + leftPad(n%1_000_000_000_000, 12)
}

// finishLocked moves p to a final status and makes its callback.
func (s *Server) finishLocked(p *payment, status PaymentStatus, now time.Time) {
	p.Status = status
	p.CompletedAt = now
	s.makeCallbackLocked(p, status, false, now)
}

// pendingLocked returns b's PENDING payments, oldest first.
func (s *Server) pendingLocked(b *bill) []*payment {
	var out []*payment
	for _, p := range s.payOrder {
		if p.LinkID == b.LinkID && p.Status == PaymentPending {
			out = append(out, p)
		}
	}
	return out
}

// sweepExpiredLocked cancels the pending payments of bills whose expiry
// has passed, once per expiry, making CANCELLED callbacks, as Flip does
// when a bill or its transaction expires.
func (s *Server) sweepExpiredLocked() {
	now := s.now()
	for _, b := range s.billOrder {
		if b.expirySeen || !b.Expired(now) {
			continue
		}
		b.expirySeen = true
		for _, p := range s.pendingLocked(b) {
			s.finishLocked(p, PaymentCancelled, now)
		}
	}
}

// payableLocked checks that b may take a new payment at now.
func payableLocked(op string, b *bill, now time.Time) error {
	switch {
	case b.Type == BillSingle && b.Used:
		return simError(op, provider.CodeConflict, fieldErr("link_id", codeUsed, "Bill link has already used"))
	case b.Expired(now):
		return simError(op, provider.CodeFailedPrecondition, fieldErr("link_id", codeExpired, "Bill link has already expired"))
	case b.Status != BillActive:
		return simError(op, provider.CodeFailedPrecondition, fieldErr("status", codeUsed, "Bill link is not active"))
	}
	return nil
}

func (s *Server) billLocked(op, linkID string) (*bill, error) {
	b, ok := s.bills[linkID]
	if !ok {
		return nil, simError(op, provider.CodeNotFound, billNotFoundErr())
	}
	return b, nil
}

// Pay simulates a customer paying the bill: its PENDING payment (a step-3
// bill has one from creation) or a new one becomes SUCCESSFUL, a SINGLE
// bill becomes INACTIVE, and a SUCCESSFUL callback is made. A used SINGLE
// bill is refused with code 1049, an expired one with 1048, an open-amount
// bill paid less than MinAmount with 1058. Errors are *provider.Error
// values: errors.Is(err, provider.CodeNotFound) and so on; the field error
// carries Flip's code.
func (s *Server) Pay(ctx context.Context, linkID string, opts PayOptions) (Payment, error) {
	if err := ctx.Err(); err != nil {
		return Payment{}, err
	}
	const op = "Pay"
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepExpiredLocked()
	b, err := s.billLocked(op, linkID)
	if err != nil {
		return Payment{}, err
	}
	if err := payableLocked(op, b, now); err != nil {
		return Payment{}, err
	}
	amount := opts.Amount
	switch {
	case amount < 0:
		return Payment{}, simError(op, provider.CodeInvalidArgument, fieldErr("amount", codeAmountNumber, "Param amount must be a positive number"))
	case amount == 0 && b.Amount == 0:
		return Payment{}, simError(op, provider.CodeInvalidArgument, fieldErr("amount", codeMinAmount, "Minimum transfer amount is Rp10.000"))
	case amount == 0:
		amount = b.Amount
	case b.Amount == 0 && amount < MinAmount:
		return Payment{}, simError(op, provider.CodeInvalidArgument, fieldErr("amount", codeMinAmount, "Minimum transfer amount is Rp10.000"))
	}
	method := Channel{Bank: opts.SenderBank, Type: opts.SenderBankType}
	if b.Step == 3 {
		method = Channel{Bank: b.SenderBank, Type: b.SenderBankType}
	}
	if method.Bank == "" {
		method.Bank = DefaultSenderBank
	}
	if method.Type == "" {
		method.Type = VirtualAccount
	}
	if !s.channels[method] {
		return Payment{}, simError(op, provider.CodeInvalidArgument, fieldErr("sender_bank", codeNotEnabled, "Cannot create transaction with chosen bank because it's not enabled"))
	}

	var p *payment
	if pending := s.pendingLocked(b); len(pending) > 0 && pending[0].SenderBank == method.Bank && pending[0].SenderBankType == method.Type {
		p = pending[0]
		p.Amount = amount
		if opts.ReferenceID != "" {
			p.ReferenceID = opts.ReferenceID
		}
	} else {
		p = s.newPaymentLocked(b, s.specLocked(b, method, amount, opts), now)
	}
	p.BillTitle = b.Title
	if b.Type == BillSingle {
		b.Used = true
		b.Status = BillInactive
	}
	s.finishLocked(p, PaymentSuccessful, now)
	s.log.Debug("fliptest: payment successful", "link_id", b.LinkID, "payment_id", p.ID)
	return p.Payment, nil
}

// specLocked names the payer of a new payment: PayOptions, then the
// bill's customer, then the defaults.
func (s *Server) specLocked(b *bill, method Channel, amount int64, opts PayOptions) paymentSpec {
	spec := paymentSpec{amount: amount, name: opts.SenderName, email: opts.SenderEmail, method: method, referenceID: opts.ReferenceID}
	if spec.name == "" {
		spec.name = b.Customer.Name
	}
	if spec.name == "" {
		spec.name = DefaultSenderName
	}
	if spec.email == "" {
		spec.email = b.Customer.Email
	}
	if spec.email == "" {
		spec.email = DefaultSenderEmail
	}
	return spec
}

// Expire simulates the bill expiring: its PENDING payments become
// CANCELLED (a CANCELLED payment is made if it has none, as a customer who
// picked a method and never paid), the bill's expiry is set to now, and a
// CANCELLED callback is made per payment. It returns the last payment
// cancelled. A used SINGLE bill is refused with code 1049.
func (s *Server) Expire(ctx context.Context, linkID string) (Payment, error) {
	return s.endPending(ctx, "Expire", linkID, PaymentCancelled)
}

// Fail simulates a failed payment (Flip's FAILED: a bank transfer Flip
// could not forward): the bill's PENDING payments become FAILED (a FAILED
// bank transfer is made if it has none) and a FAILED callback is made per
// payment. The bill stays open for another attempt. It returns the last
// payment failed. Used SINGLE bills (1049) and expired bills (1048) are
// refused.
func (s *Server) Fail(ctx context.Context, linkID string) (Payment, error) {
	return s.endPending(ctx, "Fail", linkID, PaymentFailed)
}

func (s *Server) endPending(ctx context.Context, op, linkID string, status PaymentStatus) (Payment, error) {
	if err := ctx.Err(); err != nil {
		return Payment{}, err
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepExpiredLocked()
	b, err := s.billLocked(op, linkID)
	if err != nil {
		return Payment{}, err
	}
	if b.Type == BillSingle && b.Used {
		return Payment{}, simError(op, provider.CodeConflict, fieldErr("link_id", codeUsed, "Bill link has already used"))
	}
	if status == PaymentFailed && b.Expired(now) {
		return Payment{}, simError(op, provider.CodeFailedPrecondition, fieldErr("link_id", codeExpired, "Bill link has already expired"))
	}
	pending := s.pendingLocked(b)
	if len(pending) == 0 {
		method := Channel{Bank: "bca", Type: BankAccount}
		if status == PaymentCancelled {
			method = Channel{Bank: DefaultSenderBank, Type: VirtualAccount}
		}
		if b.Step == 3 {
			method = Channel{Bank: b.SenderBank, Type: b.SenderBankType}
		}
		pending = append(pending, s.newPaymentLocked(b, s.specLocked(b, method, b.Amount, PayOptions{}), now))
	}
	if status == PaymentCancelled {
		b.ExpiresAt = now
		b.expirySeen = true
	}
	for _, p := range pending {
		s.finishLocked(p, status, now)
	}
	last := pending[len(pending)-1]
	s.log.Debug("fliptest: payment ended", "link_id", b.LinkID, "payment_id", last.ID, "status", status)
	return last.Payment, nil
}

// Bill returns the bill with the given link id.
func (s *Server) Bill(linkID string) (Bill, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.bills[linkID]
	if !ok {
		return Bill{}, false
	}
	return b.Bill, true
}

// Bills returns every bill, oldest first.
func (s *Server) Bills() []Bill {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Bill, 0, len(s.billOrder))
	for _, b := range s.billOrder {
		out = append(out, b.Bill)
	}
	return out
}

// Payments returns the payments of a bill, oldest first (none for an
// unknown bill).
func (s *Server) Payments(linkID string) []Payment {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Payment
	for _, p := range s.payOrder {
		if p.LinkID == linkID {
			out = append(out, p.Payment)
		}
	}
	return out
}

// Payment returns the payment with the given id.
func (s *Server) Payment(id string) (Payment, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.payments[id]
	if !ok {
		return Payment{}, false
	}
	return p.Payment, true
}

// qrisPayload builds an EMVCo-style QRIS string (tag-length-value fields
// ending with a CRC-16/CCITT checksum) for the fake merchant.
func qrisPayload(merchant string, amount int64, ref string) string {
	tlv := func(id, v string) string { return id + leftPad(int64(len(v)), 2) + v }
	name := strings.ToUpper(merchant)
	if len(name) > 25 {
		name = name[:25]
	}
	if len(ref) > 25 {
		ref = ref[len(ref)-25:]
	}
	var b strings.Builder
	b.WriteString(tlv("00", "01"))
	b.WriteString(tlv("01", "12"))
	b.WriteString(tlv("26", tlv("00", "ID.CO.QRIS.WWW")+tlv("01", "936000140000000000")+tlv("03", "UMI")))
	b.WriteString(tlv("52", "5999"))
	b.WriteString(tlv("53", "360"))
	if amount > 0 {
		b.WriteString(tlv("54", strconv.FormatInt(amount, 10)))
	}
	b.WriteString(tlv("58", "ID"))
	b.WriteString(tlv("59", name))
	b.WriteString(tlv("60", "JAKARTA"))
	b.WriteString(tlv("62", tlv("05", ref)))
	b.WriteString("6304")
	return b.String() + fmt.Sprintf("%04X", crc16CCITT(b.String()))
}

// crc16CCITT is CRC-16/CCITT-FALSE, the QRIS checksum.
func crc16CCITT(s string) uint16 {
	crc := uint16(0xFFFF)
	for i := 0; i < len(s); i++ {
		crc ^= uint16(s[i]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}
