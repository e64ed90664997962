package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/paylinkgo/paylink/flip"
)

// openLoopWorkers bounds the requests in flight in the open-loop run: past
// it, arrivals wait (their latency counts from when they were due) and
// those still waiting when the run ends are never sent.
const openLoopWorkers = 128

// paymentIDBase makes payment ids 19 digits long.
const paymentIDBase = 1_000_000_000_000_000_000

// newHTTPClient returns a client for loopback load: no proxy, no
// compression, and enough idle connections per host that every worker
// keeps its own.
func newHTTPClient(conns int) *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second, // Flip's own patience
		Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        conns,
			MaxIdleConnsPerHost: conns,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		},
	}
}

// loadClient sends Flip callbacks to one server: every callback a new
// SUCCESSFUL payment with a unique id, on one of the server's links in turn,
// with an amount that varies (the links are open-amount).
type loadClient struct {
	http  *http.Client
	url   string
	token string
	links []string
	// verdict, when set, is the verdict a 200 answer must carry
	// (ginadapter's {"ok":true,"verdict":"applied"}).
	verdict string
	seq     atomic.Int64
}

// nextBody returns the form body of the next callback.
func (l *loadClient) nextBody() string {
	i := l.seq.Add(1)
	link := l.links[int(i%int64(len(l.links)))]
	return flip.CallbackForm(l.token, flip.Callback{
		ID:             strconv.FormatInt(paymentIDBase+i, 10),
		BillLink:       "flip.id/paylinkload/#load-" + link,
		BillLinkID:     flip.ID(link),
		BillTitle:      "Load test",
		SenderName:     "Load Tester",
		SenderEmail:    "load@example.com",
		SenderBank:     "bni",
		SenderBankType: "virtual_account",
		Amount:         10_000 + (i%91)*1_000,
		Status:         "SUCCESSFUL",
		CreatedAt:      time.Now(),
	}).Encode()
}

// send posts one callback body and checks the answer.
func (l *loadClient) send(ctx context.Context, body string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.url, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := l.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("answered %d: %.200s", resp.StatusCode, b)
	}
	if l.verdict != "" && !strings.Contains(string(b), `"verdict":"`+l.verdict+`"`) {
		return fmt.Errorf("answered 200 without verdict %q: %.200s", l.verdict, b)
	}
	return nil
}

// loadResult is what one load run measured on the client side.
type loadResult struct {
	sent     int // requests that got an answer or an error
	errors   int // non-200 answers, wrong verdicts and transport errors
	firstErr error
	elapsed  time.Duration
	lat      []time.Duration // sorted after merge
}

func (r *loadResult) add(d time.Duration, err error) {
	r.sent++
	r.lat = append(r.lat, d)
	if err != nil {
		r.errors++
		if r.firstErr == nil {
			r.firstErr = err
		}
	}
}

// rate is answered requests per second.
func (r loadResult) rate() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.sent) / r.elapsed.Seconds()
}

// merge joins the workers' results of one run.
func merge(parts []loadResult, elapsed time.Duration) loadResult {
	out := loadResult{elapsed: elapsed}
	for _, p := range parts {
		out.sent += p.sent
		out.errors += p.errors
		out.lat = append(out.lat, p.lat...)
		if out.firstErr == nil {
			out.firstErr = p.firstErr
		}
	}
	slices.Sort(out.lat)
	return out
}

// closedLoop sends up to n callbacks from c workers, each sending its next
// callback as soon as the previous one is answered, and stops early after
// limit or when ctx is done.
func closedLoop(ctx context.Context, l *loadClient, n, c int, limit time.Duration) loadResult {
	start := time.Now()
	deadline := start.Add(limit)
	var issued atomic.Int64
	parts := make([]loadResult, c)
	var wg sync.WaitGroup
	for w := range parts {
		wg.Go(func() {
			for issued.Add(1) <= int64(n) && ctx.Err() == nil && time.Now().Before(deadline) {
				body := l.nextBody()
				t0 := time.Now()
				err := l.send(ctx, body)
				parts[w].add(time.Since(t0), err)
			}
		})
	}
	wg.Wait()
	return merge(parts, time.Since(start))
}

// openLoop offers callbacks at a fixed rate for dur, whatever the server's
// answers, with at most openLoopWorkers in flight. Latency counts from when
// each callback was due, so time spent waiting for a free worker is
// included. It returns the result and how many callbacks were offered.
func openLoop(ctx context.Context, l *loadClient, rate float64, dur time.Duration) (loadResult, int) {
	start := time.Now()
	genCtx, cancel := context.WithDeadline(ctx, start.Add(dur))
	defer cancel()
	due := make(chan time.Time)
	parts := make([]loadResult, openLoopWorkers)
	var wg sync.WaitGroup
	for w := range parts {
		wg.Go(func() {
			for at := range due {
				err := l.send(ctx, l.nextBody())
				parts[w].add(time.Since(at), err)
			}
		})
	}
	interval := time.Duration(float64(time.Second) / rate)
	offered := int(rate * dur.Seconds())
	timer := time.NewTimer(0)
	defer timer.Stop()
loop:
	for i := range offered {
		at := start.Add(time.Duration(i) * interval)
		if wait := time.Until(at); wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-genCtx.Done():
				break loop
			}
		}
		select {
		case due <- at:
		case <-genCtx.Done():
			break loop
		}
	}
	close(due)
	wg.Wait()
	return merge(parts, time.Since(start)), offered
}

// percentile returns the p-quantile (0..1) of sorted durations, 0 if none.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p*float64(len(sorted))+0.5) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// ms converts a duration to milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
