package fliptest

import (
	"bytes"
	"encoding/json"
	"net"
	"net/url"
	"strings"
)

// Quirks make the fake write its answers and callbacks as loosely as Flip
// writes them in its own examples, so that a client's tolerance is tested
// end to end. The zero value writes the documented shapes.
type Quirks struct {
	// NullStrings writes the missing values of payment lists
	// (completed_at, settlement_date, reference_id, ...) as the string
	// "null" instead of JSON null, as Flip's Get Payment example does
	// ("completed_at":"null").
	NullStrings bool
	// StringNumbers writes numbers as JSON strings: in payment lists the
	// envelope's link_id and counters and each payment's amount, in
	// callbacks bill_link_id and amount.
	StringNumbers bool
	// DecimalAmounts writes amounts with a zero fraction, in payment lists
	// and callbacks: 45000.00, or "45000.00" with StringNumbers.
	DecimalAmounts bool
	// UnencodedCallbacks sends callback bodies as Flip's own sample curl
	// writes them: data={...JSON...}&token=..., nothing URL-encoded.
	UnencodedCallbacks bool
}

// loose reports whether a JSON answer needs rewriting.
func (q Quirks) loose() bool { return q.NullStrings || q.StringNumbers || q.DecimalAmounts }

// amount renders an amount as the quirks ask.
func (q Quirks) amount(v any) any {
	n, ok := v.(json.Number)
	if !ok {
		return v
	}
	s := n.String()
	if q.DecimalAmounts {
		s += ".00"
	}
	if q.StringNumbers {
		return s
	}
	return json.Number(s)
}

// number renders a number that is not an amount as the quirks ask.
func (q Quirks) number(v any) any {
	if n, ok := v.(json.Number); ok && q.StringNumbers {
		return n.String()
	}
	return v
}

// decodeLoose decodes JSON into maps, keeping numbers exact.
func decodeLoose(data []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var m map[string]any
	err := dec.Decode(&m)
	return m, err
}

// loosePage rewrites a payment page as the quirks ask.
func (q Quirks) loosePage(page paymentPageJSON) (any, error) {
	data, err := json.Marshal(page)
	if err != nil {
		return nil, err
	}
	m, err := decodeLoose(data)
	if err != nil {
		return nil, err
	}
	for _, k := range []string{"link_id", "total_data", "data_per_page", "total_page", "page"} {
		if v, ok := m[k]; ok {
			m[k] = q.number(v)
		}
	}
	items, _ := m["data"].([]any)
	for _, item := range items {
		p, ok := item.(map[string]any)
		if !ok {
			continue
		}
		for k, v := range p {
			switch {
			case v == nil && q.NullStrings:
				p[k] = "null"
			case k == "amount":
				p[k] = q.amount(v)
			default:
				p[k] = q.number(v)
			}
		}
	}
	return m, nil
}

// looseCallbackData rewrites a callback's data JSON as the quirks ask.
func (q Quirks) looseCallbackData(data []byte) ([]byte, error) {
	if !q.StringNumbers && !q.DecimalAmounts {
		return data, nil
	}
	m, err := decodeLoose(data)
	if err != nil {
		return nil, err
	}
	m["amount"] = q.amount(m["amount"])
	m["bill_link_id"] = q.number(m["bill_link_id"])
	return json.Marshal(m)
}

// callbackBody is the body of a callback: a form, or with
// UnencodedCallbacks the two fields joined as they are.
func (q Quirks) callbackBody(data []byte, token string) string {
	if q.UnencodedCallbacks {
		return "data=" + string(data) + "&token=" + token
	}
	return url.Values{"data": {string(data)}, "token": {token}}.Encode()
}

// localHost reports whether host names this machine or a private network:
// localhost, *.localhost, or a loopback, private, link-local or
// unspecified address.
func localHost(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && (ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsUnspecified())
}

// validEmptyPaymentsCode reports whether c is a value of
// Options.EmptyPaymentsCode.
func validEmptyPaymentsCode(c int) bool {
	return c == 0 || c == codeBillNotFound || c == codeLinkIDMissing
}

// emptyPaymentsErr is the 422 of Options.EmptyPaymentsCode.
func emptyPaymentsErr(code int) flipFieldError {
	if code == codeLinkIDMissing {
		return fieldErr("id", codeLinkIDMissing, "Param Bill Link ID is Not Found")
	}
	return billNotFoundErr()
}
