package readme

import (
	"errors"
	"strings"
)

// GoBlock returns the first fenced Go code block after the line heading
// (for example "## Quickstart: mount it into your Gin app") in a Markdown
// text.
func GoBlock(markdown, heading string) (string, error) {
	_, after, ok := strings.Cut(markdown, "\n"+heading+"\n")
	if !ok {
		return "", errors.New("readme: no heading " + heading)
	}
	_, code, ok := strings.Cut(after, "```go\n")
	if !ok {
		return "", errors.New("readme: no Go block after " + heading)
	}
	code, _, ok = strings.Cut(code, "\n```")
	if !ok {
		return "", errors.New("readme: the Go block after " + heading + " is not closed")
	}
	return code + "\n", nil
}
