package midtrans

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/paylinkgo/paylink/provider"
)

// ParseAmount parses a Midtrans decimal amount ("100000.00", "100000")
// exactly into whole rupiah. A fractional rupiah ("100000.50") is an
// error, never rounded; so are a sign, white space, an exponent, an empty
// string, more than two decimals of non-zero digits and values that do
// not fit in an int64. Trailing zero decimals of any length are accepted
// ("10.000" is 10).
func ParseAmount(s string) (int64, error) {
	const op = "midtrans.ParseAmount"
	bad := func(why string) error {
		return &provider.Error{Code: provider.CodeInvalidArgument, Op: op,
			Message: fmt.Sprintf("amount %q %s", s, why)}
	}
	whole, frac, hasDot := strings.Cut(s, ".")
	if whole == "" {
		return 0, bad("is not a decimal number")
	}
	for _, r := range whole {
		if r < '0' || r > '9' {
			return 0, bad("is not a decimal number")
		}
	}
	if hasDot {
		if frac == "" {
			return 0, bad("is not a decimal number")
		}
		for _, r := range frac {
			if r < '0' || r > '9' {
				return 0, bad("is not a decimal number")
			}
			if r != '0' {
				return 0, bad("has a fractional rupiah")
			}
		}
	}
	n, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, bad("does not fit in an int64")
	}
	return n, nil
}

// FormatAmount formats whole rupiah as Midtrans writes them in responses
// and notifications ("100000.00").
func FormatAmount(n int64) string { return strconv.FormatInt(n, 10) + ".00" }

// checkAmount refuses amounts Midtrans cannot take: other currencies and
// zero or negative amounts. There is no upper bound here: Snap's OpenAPI
// says int32, but virtual-account maxima reach Rp 20-50 billion (BNI VA
// has none) and the official SDKs send 64-bit integers; a method's or the
// merchant's own cap is Midtrans's to enforce.
func checkAmount(op string, m provider.Money) error {
	field := func(rule, msg string) error {
		return &provider.Error{Code: provider.CodeInvalidArgument, Op: op, Message: "invalid parameters",
			Fields: []provider.FieldError{{Field: "amount", Rule: rule, Message: msg}}}
	}
	switch {
	case m.Currency != "" && m.Currency != provider.IDR:
		return field("currency", "must be in IDR, not "+string(m.Currency))
	case m.Amount <= 0:
		return field("min", "must be a fixed amount of at least 1 rupiah (Snap has no open amounts)")
	}
	return nil
}

// amountInfo is the breakdown of a gross_amount that Automatic Fee
// Imposition (or a promo) changed.
type amountInfo struct {
	original, fee int64
}

// grossAmountInfo reads the breakdown Midtrans adds when the amount
// charged differs from the order's: metadata.extra_info.gross_amount_info
// in real payloads, extra_info.gross_amount_info in the doc sample, with
// original_amount and customer_imposed_payment_fee as strings or numbers.
// ok is false when there is none or it cannot be read exactly.
func grossAmountInfo(raw []byte) (amountInfo, bool) {
	type info struct {
		GrossAmountInfo *struct {
			OriginalAmount json.RawMessage `json:"original_amount"`
			Fee            json.RawMessage `json:"customer_imposed_payment_fee"`
		} `json:"gross_amount_info"`
	}
	var body struct {
		Metadata *struct {
			ExtraInfo *info `json:"extra_info"`
		} `json:"metadata"`
		ExtraInfo *info `json:"extra_info"`
	}
	if len(raw) == 0 || json.Unmarshal(raw, &body) != nil {
		return amountInfo{}, false
	}
	in := body.ExtraInfo
	if body.Metadata != nil && body.Metadata.ExtraInfo != nil {
		in = body.Metadata.ExtraInfo
	}
	if in == nil || in.GrossAmountInfo == nil {
		return amountInfo{}, false
	}
	original, err := ParseAmount(jsonText(in.GrossAmountInfo.OriginalAmount))
	if err != nil {
		return amountInfo{}, false
	}
	var fee int64
	if t := jsonText(in.GrossAmountInfo.Fee); t != "" {
		if fee, err = ParseAmount(t); err != nil {
			return amountInfo{}, false
		}
	}
	return amountInfo{original: original, fee: fee}, true
}
