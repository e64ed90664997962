package fliptest

import (
	"github.com/paylinkgo/paylink/flip"
)

// Client returns a [flip.Client] pointed at the fake and authenticated
// with its secret key. It panics if the server has not been started (a
// client without the fake's URL would talk to Flip's real sandbox).
func (s *Server) Client() *flip.Client {
	if s.URL == "" {
		panic("fliptest: Client called before Start")
	}
	c, err := flip.NewClient(s.opts.SecretKey, flip.Options{BaseURL: s.URL, Logger: s.log})
	if err != nil {
		// NewClient refuses only an empty key or a malformed URL, and the
		// fake has neither.
		panic("fliptest: " + err.Error())
	}
	return c
}
