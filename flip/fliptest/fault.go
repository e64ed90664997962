package fliptest

import (
	"net/http"
	"strings"
	"time"
)

// Fault makes matching requests misbehave: answer a chosen status and body
// (a 500, a 502 from a "gateway", a malformed body), or answer late.
type Fault struct {
	// Method matches the request method; empty matches any.
	Method string
	// PathPrefix matches the start of the request path; empty matches every
	// API path (those under /v2/), never the checkout pages or /_fliptest.
	PathPrefix string
	// Status is the status to answer. 0 keeps the real answer (a Fault
	// with only a Delay makes the fake slow, not wrong).
	Status int
	// Body is the body to answer with Status, sent as is.
	Body string
	// ContentType of Body. Default "application/json; charset=UTF-8".
	ContentType string
	// Delay is waited before answering. When the client gives up, or the
	// server is closed, the wait ends and the connection is dropped.
	Delay time.Duration
	// Times is how many requests the fault affects; 0 means every
	// matching request until ClearFaults.
	Times int
}

type faultState struct {
	Fault
	left int // -1: unlimited
}

// InjectFault adds a fault. Faults are tried in the order they were added;
// the first one that matches a request (and has uses left) applies.
func (s *Server) InjectFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	left := f.Times
	if left <= 0 {
		left = -1
	}
	s.faults = append(s.faults, &faultState{Fault: f, left: left})
}

// ClearFaults removes every fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

func (f *Fault) matches(r *http.Request) bool {
	if f.Method != "" && !strings.EqualFold(f.Method, r.Method) {
		return false
	}
	if f.PathPrefix == "" {
		return isAPIPath(r.URL.Path)
	}
	return strings.HasPrefix(r.URL.Path, f.PathPrefix)
}

// applyFault applies the first matching fault, if any, and reports whether
// it answered the request.
func (s *Server) applyFault(w http.ResponseWriter, r *http.Request) bool {
	s.mu.Lock()
	var f *Fault
	for _, st := range s.faults {
		if st.left != 0 && st.matches(r) {
			if st.left > 0 {
				st.left--
			}
			cp := st.Fault
			f = &cp
			break
		}
	}
	s.mu.Unlock()
	if f == nil {
		return false
	}
	s.log.Debug("fliptest: fault applied", "method", r.Method, "path", r.URL.Path, "status", f.Status, "delay", f.Delay)
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			panic(http.ErrAbortHandler)
		case <-s.ctx.Done():
			// Drop the connection: the server is closing.
			panic(http.ErrAbortHandler)
		}
	}
	if f.Status == 0 {
		return false
	}
	ct := f.ContentType
	if ct == "" {
		ct = "application/json; charset=UTF-8"
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(f.Status)
	_, _ = w.Write([]byte(f.Body))
	return true
}
