package provider

import (
	"bytes"
	"encoding/json"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// Redacted replaces a secret value in a redacted callback body.
const Redacted = "[redacted]"

// RedactFields returns a callback body with the values of the fields that
// secret selects replaced by [Redacted]; other fields are kept. A JSON
// object is redacted at every depth (and comes back re-encoded, indented,
// keys sorted, numbers as written); one that looks like JSON but does not
// decode (cut short, say) keeps every byte but the values of its secret
// members; a form body (name=value&...) keeps every byte of the fields it
// keeps. A body that is none of these comes back unchanged. Providers use
// it for [CallbackRedactor]; SecretField is a conservative choice of
// secret for bodies of providers that have none.
func RedactFields(body []byte, secret func(name string) bool) []byte {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[') {
		dec := json.NewDecoder(bytes.NewReader(trimmed))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err == nil && !dec.More() {
			out, err := json.MarshalIndent(redactValue(v, secret), "", "  ")
			if err == nil {
				return out
			}
		}
		return redactBrokenJSON(body, secret)
	}
	return redactForm(body, secret)
}

// jsonMember matches a JSON member name and its value as far as it can be
// told in a body that does not decode: a string (possibly cut short) or
// anything up to the next delimiter.
var jsonMember = regexp.MustCompile(`"((?:[^"\\]|\\.)*)"(\s*:\s*)("(?:[^"\\]|\\.)*"?|[^,{}\[\]"\s]*)`)

// redactBrokenJSON replaces the values of secret members of a body that
// looks like JSON but does not decode (cut short, say), keeping the rest
// as it is.
func redactBrokenJSON(body []byte, secret func(string) bool) []byte {
	return jsonMember.ReplaceAllFunc(body, func(m []byte) []byte {
		sub := jsonMember.FindSubmatch(m)
		name, err := strconv.Unquote(`"` + string(sub[1]) + `"`)
		if err != nil {
			name = string(sub[1])
		}
		if !secret(name) {
			return m
		}
		return append(append(append([]byte(`"`), sub[1]...), append([]byte(`"`), sub[2]...)...), `"`+Redacted+`"`...)
	})
}

func redactValue(v any, secret func(string) bool) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if secret(k) {
				x[k] = Redacted
			} else {
				x[k] = redactValue(e, secret)
			}
		}
	case []any:
		for i, e := range x {
			x[i] = redactValue(e, secret)
		}
	}
	return v
}

// redactForm replaces the values of secret fields in a name=value&...
// body, keeping every other byte.
func redactForm(body []byte, secret func(string) bool) []byte {
	if !bytes.Contains(body, []byte("=")) {
		return body
	}
	parts := bytes.Split(body, []byte("&"))
	for i, p := range parts {
		name, _, ok := bytes.Cut(p, []byte("="))
		if !ok {
			continue
		}
		n, err := url.QueryUnescape(string(name))
		if err != nil {
			n = string(name)
		}
		if secret(n) {
			parts[i] = append(append(name[:len(name):len(name)], '='), url.QueryEscape(Redacted)...)
		}
	}
	return bytes.Join(parts, []byte("&"))
}

// SecretField reports whether a field's name suggests a secret: it holds
// "token", "secret", "signature", "password", "passwd", "api_key",
// "apikey", "server_key" or "private", in any case.
func SecretField(name string) bool {
	n := strings.ToLower(name)
	for _, s := range []string{"token", "secret", "signature", "password", "passwd", "api_key", "apikey", "server_key", "private"} {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}
