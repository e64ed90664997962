package midtrans

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
)

// withoutSignature returns a JSON object without its signature_key
// members, every other byte as it was; anything that is not one JSON
// object gives nil, never the signature. signature_key is a hash of the
// server key that verifies again wherever the same three fields do, so it
// is never stored or handed on. Names are matched as encoding/json
// matches them (case-insensitively), at the top level, where Midtrans
// puts it.
func withoutSignature(body []byte) []byte {
	out, ok := cutSignature(body)
	if !ok {
		return nil
	}
	return out
}

func isSignatureName(name string) bool { return strings.EqualFold(name, "signature_key") }

// cutSignature removes the top-level signature_key members of the JSON
// object body in place of a re-encoding; ok is false when body is not
// exactly one JSON object.
func cutSignature(body []byte) ([]byte, bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, false
	}
	type member struct {
		key, end int // the offsets of the name's quote and of the value's end
		drop     bool
	}
	var members []member
	prev := int(dec.InputOffset()) // after '{', then after each value
	for dec.More() {
		tok, err := dec.Token()
		name, isName := tok.(string)
		if err != nil || !isName {
			return nil, false
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, false
		}
		end := int(dec.InputOffset())
		key := skipSpace(body, prev)
		if len(members) > 0 && key < len(body) && body[key] == ',' {
			key = skipSpace(body, key+1)
		}
		if key >= len(body) || body[key] != '"' {
			return nil, false
		}
		members = append(members, member{key: key, end: end, drop: isSignatureName(name)})
		prev = end
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false // something after the object
	}
	dropped := false
	for _, m := range members {
		dropped = dropped || m.drop
	}
	if !dropped {
		return body, true
	}
	out := make([]byte, 0, len(body))
	out = append(out, body[:members[0].key]...)
	wrote := false
	for i, m := range members {
		if m.drop {
			continue
		}
		if wrote {
			out = append(out, body[members[i-1].end:m.key]...) // the separator before it, with its comma
		}
		out = append(out, body[m.key:m.end]...)
		wrote = true
	}
	return append(out, body[members[len(members)-1].end:]...), true
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}
