package console

import (
	"regexp"
	"strings"

	"github.com/paylinkgo/paylink/provider"
)

// Free text shown to operators (a hook run's last error, a panic value, a
// failed action's error) may quote a request or a body: a URL with
// ?token=..., a JSON body with "signature_key", an Authorization header.
// redactText hides the values of the names [provider.SecretField]
// suspects, the rule callback bodies are redacted by (plus
// Authorization), wherever they appear in the text:
//
//	"name": "value" / "name": value    a JSON member, also with escaped quotes
//	name=value                         a form field or query parameter
//	name: value                        a header or a log-style pair
var (
	textJSONMember    = regexp.MustCompile(`"((?:[^"\\]|\\.)*)"(\s*:\s*)("(?:[^"\\]|\\.)*"?|[^,{}\[\]"\s]+)`)
	textEscapedMember = regexp.MustCompile(`\\"([^"\\]*)\\"(\s*:\s*)(\\"(?:[^"\\]|\\[^"])*(?:\\")?|[^,{}\[\]"\s\\]+)`)
	textPairName      = regexp.MustCompile(`([A-Za-z0-9_.\-\[\]]+)(=|:[ \t]*)`)
	textAuthScheme    = regexp.MustCompile(`^(?i:bearer|basic)[ \t]+`)
)

func secretName(name string) bool {
	return provider.SecretField(name) || strings.EqualFold(name, "authorization")
}

// redactText returns s with the values of secret-looking names replaced
// by [provider.Redacted].
func redactText(s string) string {
	s = textJSONMember.ReplaceAllStringFunc(s, func(m string) string {
		sub := textJSONMember.FindStringSubmatch(m)
		if !secretName(sub[1]) {
			return m
		}
		return `"` + sub[1] + `"` + sub[2] + `"` + provider.Redacted + `"`
	})
	s = textEscapedMember.ReplaceAllStringFunc(s, func(m string) string {
		sub := textEscapedMember.FindStringSubmatch(m)
		if !secretName(sub[1]) {
			return m
		}
		return `\"` + sub[1] + `\"` + sub[2] + `\"` + provider.Redacted + `\"`
	})
	return redactPairs(s)
}

// redactPairs hides the values of secret name=value and name: value
// pairs. A value runs to the next space or delimiter; an authorization
// scheme (Bearer, Basic) before it is kept.
func redactPairs(s string) string {
	var b strings.Builder
	last := 0
	for _, m := range textPairName.FindAllStringSubmatchIndex(s, -1) {
		if m[0] < last || !secretName(s[m[2]:m[3]]) {
			continue
		}
		start := m[1]
		if scheme := textAuthScheme.FindString(s[start:]); scheme != "" {
			start += len(scheme)
		}
		end := start
		for end < len(s) && !strings.ContainsRune(" \t\r\n&\"',;)}]", rune(s[end])) {
			end++
		}
		if end == start || s[start:end] == provider.Redacted {
			continue
		}
		b.WriteString(s[last:start])
		b.WriteString(provider.Redacted)
		last = end
	}
	b.WriteString(s[last:])
	return b.String()
}
