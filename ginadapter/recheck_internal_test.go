package ginadapter

import (
	"context"
	"testing"
	"time"

	"github.com/paylinkgo/paylink/provider"
)

// TestRecheckerClock specifies the rechecker's limits against a clock the
// test moves: a link is re-checked again once its interval has passed,
// and the overall bucket refills at its rate.
func TestRecheckerClock(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)
	r := newRechecker(10*time.Second, 1, 2, func() time.Time { return now })
	runs := 0
	check := func(key string) bool {
		_, _, err, checked := r.recheck(context.Background(), key, func() (*provider.Link, []provider.Payment, error) {
			runs++
			return &provider.Link{ID: key}, nil, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return checked
	}
	steps := []struct {
		advance time.Duration
		key     string
		want    bool
	}{
		{0, "1", true},                // first re-check of link 1 (bucket 2 → 1)
		{9 * time.Second, "1", false}, // within link 1's interval
		{0, "2", true},                // link 2 (bucket refilled to 2, → 1)
		{0, "3", true},                // link 3 (bucket → 0)
		{0, "4", false},               // bucket empty
		{time.Second, "4", true},      // one token back after a second
		{time.Second, "1", true},      // link 1's interval has passed
		{0, "1", false},               // and starts again
		{10 * time.Second, "1", true}, // passed again
		{10 * time.Second, "5", true}, // the bucket holds at most 2
		{0, "6", true},
		{0, "7", false},
	}
	for i, s := range steps {
		now = now.Add(s.advance)
		if got := check(s.key); got != s.want {
			t.Errorf("step %d (+%s, link %s): checked = %v, want %v", i, s.advance, s.key, got, s.want)
		}
	}
	if runs != 8 {
		t.Errorf("re-checks run = %d, want 8", runs)
	}
}
