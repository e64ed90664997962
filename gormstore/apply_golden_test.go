package gormstore

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/paylinkgo/paylink/provider"
)

// update rewrites the golden files: go test ./gormstore -run Golden -update
var update = flag.Bool("update", false, "rewrite the golden files in testdata/apply")

const goldenDir = "testdata/apply"

// goldenAt is the one time the shapes carry; the store's own stamp is
// rendered as <now>.
var goldenAt = time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC)

// goldenShape is one kind of write provider.Service hands to Apply.
type goldenShape struct {
	name, about string
	write       func() *provider.ApplyWrite
}

// goldenShapes are the writes decide (provider/apply.go) and unverified
// produce, one per shape of statement and of arguments. A new
// ApplyWrite field needs a shape here: TestApplyGoldenCoversFields fails
// until one sets it.
func goldenShapes() []goldenShape {
	const prov, link, pay = "flip", "link-1", "pay-1"
	body := []byte(`{"id":"pay-1","status":"SUCCESSFUL"}`)
	payment := func(status provider.PaymentStatus, refunded int64) *provider.Payment {
		p := &provider.Payment{
			ID: pay, Provider: prov, LinkID: link,
			Amount: provider.Money{Amount: 10000, Currency: provider.IDR}, Status: status, RawStatus: string(status),
			Sender:   provider.Customer{Name: "Budi", Email: "budi@example.com", Phone: "0812", Address: "Jl. Merdeka 1"},
			Method:   provider.PaymentMethod{Bank: "bca", Type: "virtual_account"},
			VANumber: "8001", PaymentURL: "https://pay.example/1",
			CreatedAt: goldenAt, UpdatedAt: goldenAt, Raw: body,
		}
		if refunded > 0 {
			p.RefundedAmount = provider.Money{Amount: refunded, Currency: provider.IDR}
		}
		if status.Final() {
			p.CompletedAt = goldenAt
		}
		return p
	}
	callback := func(status provider.PaymentStatus, v provider.Verdict, body []byte) *provider.CallbackRecord {
		return &provider.CallbackRecord{Provider: prov, PaymentID: pay, LinkID: link, Status: status,
			Amount: provider.Money{Amount: 10000, Currency: provider.IDR}, Body: body, Verdict: v, ReceivedAt: goldenAt}
	}
	claim := func(status provider.PaymentStatus, refunded int64, flag provider.Verdict) *provider.EventKey {
		return &provider.EventKey{Provider: prov, PaymentID: pay, Status: status, Refunded: refunded, Flag: flag}
	}
	change := func(from, to provider.PaymentStatus, refunded int64, src provider.Source) *provider.StatusChange {
		return &provider.StatusChange{Provider: prov, PaymentID: pay, From: from, To: to, Refunded: refunded, Source: src, At: goldenAt}
	}
	runs := func(k *provider.EventKey, hooks ...string) []provider.NewHookRun {
		var rs []provider.NewHookRun
		for _, h := range hooks {
			rs = append(rs, provider.NewHookRun{EventID: k.String(), Provider: prov, PaymentID: pay, Hook: h,
				IdempotencyKey: provider.HookIdempotencyKey(k.String(), h)})
		}
		return rs
	}
	event := func(k *provider.EventKey) []byte { return []byte(`{"id":"` + k.String() + `"}`) }
	return []goldenShape{
		{"applied_new_hooks", "a new payment, paid, on a MULTIPLE link; two success hooks", func() *provider.ApplyWrite {
			k := claim(provider.PaymentSuccessful, 0, "")
			return &provider.ApplyWrite{Callback: callback(provider.PaymentSuccessful, provider.VerdictApplied, body),
				Claim: k, Event: event(k), Payment: payment(provider.PaymentSuccessful, 0),
				StatusChange: change("", provider.PaymentSuccessful, 0, provider.SourceCallback),
				HookRuns:     runs(k, "mark_order_paid", "send_receipt")}
		}},
		{"applied_new_hooks_leased", "as applied_new_hooks, the runs inserted leased to the process that applied it (it runs them at once, unclaimed)", func() *provider.ApplyWrite {
			k := claim(provider.PaymentSuccessful, 0, "")
			return &provider.ApplyWrite{Callback: callback(provider.PaymentSuccessful, provider.VerdictApplied, body),
				Claim: k, Event: event(k), Payment: payment(provider.PaymentSuccessful, 0),
				StatusChange: change("", provider.PaymentSuccessful, 0, provider.SourceCallback),
				HookRuns:     runs(k, "mark_order_paid", "send_receipt"), HookLease: "lease-token", HookLeaseFor: 15 * time.Second}
		}},
		{"applied_update_link", "a PENDING payment paid: its SINGLE link becomes INACTIVE; one success hook", func() *provider.ApplyWrite {
			k := claim(provider.PaymentSuccessful, 0, "")
			return &provider.ApplyWrite{Callback: callback(provider.PaymentSuccessful, provider.VerdictApplied, body),
				Claim: k, Event: event(k), Payment: payment(provider.PaymentSuccessful, 0),
				PreviousStatus: provider.PaymentPending,
				StatusChange:   change(provider.PaymentPending, provider.PaymentSuccessful, 0, provider.SourceCallback),
				LinkStatus:     provider.LinkInactive, LinkUpdatedAt: goldenAt,
				HookRuns: runs(k, "mark_order_paid")}
		}},
		{"applied_no_hooks", "a new PENDING payment, no hook wants it", func() *provider.ApplyWrite {
			return &provider.ApplyWrite{Callback: callback(provider.PaymentPending, provider.VerdictApplied, body),
				Claim: claim(provider.PaymentPending, 0, ""), Payment: payment(provider.PaymentPending, 0),
				StatusChange: change("", provider.PaymentPending, 0, provider.SourceCallback)}
		}},
		{"partial_refund", "a second partial refund (3000 then 5000 returned) of a paid payment", func() *provider.ApplyWrite {
			return &provider.ApplyWrite{Callback: callback(provider.PaymentPartiallyRefunded, provider.VerdictApplied, body),
				Claim: claim(provider.PaymentPartiallyRefunded, 5000, ""), Payment: payment(provider.PaymentPartiallyRefunded, 5000),
				PreviousStatus: provider.PaymentPartiallyRefunded, PreviousRefunded: 3000,
				StatusChange: change(provider.PaymentPartiallyRefunded, provider.PaymentPartiallyRefunded, 5000, provider.SourceCallback)}
		}},
		{"reconcile", "the reconciler finds a payment paid: no callback record; one success hook", func() *provider.ApplyWrite {
			k := claim(provider.PaymentSuccessful, 0, "")
			return &provider.ApplyWrite{Claim: k, Event: event(k), Payment: payment(provider.PaymentSuccessful, 0),
				StatusChange: change("", provider.PaymentSuccessful, 0, provider.SourceReconcile),
				HookRuns:     runs(k, "mark_order_paid")}
		}},
		{"duplicate", "a repeat of a claimed event: the callback is recorded without its body", func() *provider.ApplyWrite {
			return &provider.ApplyWrite{Callback: callback(provider.PaymentSuccessful, provider.VerdictDuplicate, nil)}
		}},
		{"stale", "a PENDING after SUCCESSFUL: claimed, so a repeat is a duplicate; nothing changes", func() *provider.ApplyWrite {
			return &provider.ApplyWrite{Callback: callback(provider.PaymentPending, provider.VerdictStale, body),
				Claim: claim(provider.PaymentPending, 0, "")}
		}},
		{"flagged_hooks", "an amount mismatch with a flagged hook: claimed once per payment and flag", func() *provider.ApplyWrite {
			k := claim("", 0, provider.VerdictAmountMismatch)
			return &provider.ApplyWrite{Callback: callback(provider.PaymentSuccessful, provider.VerdictAmountMismatch, body),
				Claim: k, Event: event(k), HookRuns: runs(k, "alert_finance")}
		}},
		{"flagged_no_hooks", "an unknown link, no flagged hook: the callback only", func() *provider.ApplyWrite {
			return &provider.ApplyWrite{Callback: callback(provider.PaymentSuccessful, provider.VerdictUnknownLink, body)}
		}},
		{"unverified", "a callback the provider does not show: the callback only, its body cut", func() *provider.ApplyWrite {
			return &provider.ApplyWrite{Callback: callback(provider.PaymentSuccessful, provider.VerdictUnverified, body)}
		}},
	}
}

// TestApplyGolden writes the statements and arguments of every shape,
// on both dialects, and diffs them against testdata/apply.
func TestApplyGolden(t *testing.T) {
	want := map[string]bool{}
	for _, sh := range goldenShapes() {
		for _, d := range []struct {
			name string
			d    dialect
		}{{"postgres", dialectPostgres}, {"sqlite", dialectSQLite}} {
			file := sh.name + "." + d.name + ".sql"
			want[file] = true
			t.Run(file, func(t *testing.T) {
				s := &Store{dialect: d.d, plans: &planCache{}}
				plan, args := s.plan(sh.write())
				if plan == nil {
					t.Fatal("the shape writes nothing")
				}
				// The cached plan's dry run must give the same arguments.
				again, dryArgs := s.plan(sh.write())
				if again != plan {
					t.Fatal("the second write of the shape built a new plan")
				}
				if a, b := renderArgs("$", args), renderArgs("$", dryArgs); a != b {
					t.Fatalf("the dry run's arguments differ:\n%s\nwant\n%s", b, a)
				}
				var out strings.Builder
				fmt.Fprintf(&out, "-- %s (%s): %s\n", sh.name, d.name, sh.about)
				out.WriteString("-- Generated by TestApplyGolden (apply_golden_test.go); rewrite with: go test ./gormstore -run Golden -update\n\n")
				if d.d == dialectPostgres {
					out.WriteString(layoutChecked(t, plan.postgres))
					out.WriteString(";\n\n-- arguments\n")
					out.WriteString(renderArgs("$", args))
				} else {
					for i, part := range plan.parts {
						must := ""
						if part.role.mustWrite() {
							must = " (must write one row, else ErrWriteConflict)"
						}
						fmt.Fprintf(&out, "-- %d. %s%s\n", i+1, part.name, must)
						out.WriteString(layoutChecked(t, plan.sqlite[i]))
						out.WriteString(";\n-- arguments\n")
						out.WriteString(renderArgs("?", args[plan.sqliteFrom[i]:plan.sqliteTo[i]]))
						out.WriteString("\n")
					}
				}
				checkGolden(t, file, out.String())
			})
		}
	}

	for _, d := range []string{"postgres", "sqlite"} {
		file := "load_apply." + d + ".sql"
		want[file] = true
		t.Run(file, func(t *testing.T) {
			var out strings.Builder
			fmt.Fprintf(&out, "-- LoadApply (%s)\n", d)
			out.WriteString("-- Generated by TestApplyGolden (apply_golden_test.go); rewrite with: go test ./gormstore -run Golden -update\n\n")
			if d == "postgres" {
				out.WriteString("-- $1 provider, $2 link id, $3 payment id\n")
				out.WriteString(loadApplySQL + ";\n")
			} else {
				for _, q := range []struct{ name, sql string }{
					{"link", loadLinkSQLite}, {"payment", loadPaymentSQLite}, {"claims", loadClaimsSQLite},
					{"paid by (SINGLE links only)", loadPaidBySQLite},
				} {
					fmt.Fprintf(&out, "-- %s\n%s;\n\n", q.name, layoutChecked(t, q.sql))
				}
			}
			checkGolden(t, file, strings.TrimRight(out.String(), "\n")+"\n")
		})
	}

	// No golden file outlives its shape.
	files, err := filepath.Glob(filepath.Join(goldenDir, "*.sql"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if want[filepath.Base(f)] {
			continue
		}
		if *update {
			if err := os.Remove(f); err != nil {
				t.Fatal(err)
			}
			continue
		}
		t.Errorf("%s belongs to no shape: remove it (or run with -update)", f)
	}
}

// TestApplyGoldenCoversFields fails when a field of provider.ApplyWrite
// (or of the records it carries) is set by no golden shape: a new part of
// the write must show its SQL in testdata/apply.
func TestApplyGoldenCoversFields(t *testing.T) {
	var writes []reflect.Value
	for _, sh := range goldenShapes() {
		writes = append(writes, reflect.ValueOf(sh.write()).Elem())
	}
	var check func(path string, vs []reflect.Value)
	check = func(path string, vs []reflect.Value) {
		typ := vs[0].Type()
		for i := range typ.NumField() {
			f := typ.Field(i)
			var set []reflect.Value
			for _, v := range vs {
				if fv := v.Field(i); !fv.IsZero() {
					set = append(set, fv)
				}
			}
			name := path + f.Name
			if len(set) == 0 {
				if name == "Callback.ID" || name == "HookRuns.ID" { // set by Apply, never by the Service
					continue
				}
				t.Errorf("no golden shape sets ApplyWrite.%s: add one to goldenShapes", name)
				continue
			}
			// The records a write carries: each of their fields too.
			var inner []reflect.Value
			for _, v := range set {
				switch {
				case v.Kind() == reflect.Pointer && v.Elem().Kind() == reflect.Struct:
					inner = append(inner, v.Elem())
				case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Struct:
					for j := range v.Len() {
						inner = append(inner, v.Index(j))
					}
				}
			}
			if len(inner) > 0 && inner[0].Type().PkgPath() == typ.PkgPath() {
				check(name+".", inner)
			}
		}
	}
	check("", writes)
}

// layoutChecked lays q out one clause per line (see layout) and checks
// that joining the lines again gives back q exactly: the golden files
// show the executed SQL, only broken into lines.
func layoutChecked(t *testing.T, q string) string {
	t.Helper()
	out := layout(q)
	if back := lineBreak.ReplaceAllString(out, " "); back != q {
		t.Fatalf("the layout changed the statement:\n%s\nwant\n%s", back, q)
	}
	return out
}

var (
	lineBreak = regexp.MustCompile(`\n *`)
	// cteStart is ", name AS (" between two CTEs.
	cteStart = regexp.MustCompile(`\), ([a-z]+) AS \(`)
	// setItem is one "column = $n, " of an UPDATE's SET list.
	setItem = regexp.MustCompile(`( = (\$[0-9]+|\?)), `)
)

// layout breaks a one-line statement into lines by turning some single
// spaces into a line break and an indent: each CTE and the final SELECT
// at the left margin, each clause of a part indented, an UPDATE's
// assignments and a multi-row VALUES one per line.
func layout(q string) string {
	if strings.Contains(q, "\n") {
		return q
	}
	q = strings.Replace(q, "WITH ", "WITH\n", 1)
	q = cteStart.ReplaceAllString(q, "),\n$1 AS (")
	if i := strings.LastIndex(q, ") SELECT "); i >= 0 && strings.HasPrefix(q, "WITH") {
		q = q[:i] + ")\nSELECT " + q[i+len(") SELECT "):]
	}
	kws := []string{"VALUES", "ON CONFLICT", "RETURNING", "WHERE", "SET"}
	if strings.HasPrefix(q, "SELECT ") {
		kws = append(kws, "FROM") // a read's FROM; never a subquery's in Apply's checks
	}
	for _, kw := range kws {
		q = strings.ReplaceAll(q, " "+kw+" ", "\n  "+kw+" ")
	}
	q = strings.ReplaceAll(q, "), (", "),\n    (")
	q = setItem.ReplaceAllString(q, "$1,\n    ")
	q = strings.ReplaceAll(q, " AND (SELECT count", "\n  AND (SELECT count")
	q = strings.ReplaceAll(q, " THEN ", "\n  THEN ")
	q = strings.ReplaceAll(q, " ELSE ", "\n  ELSE ")
	return q
}

// renderArgs lists args one a line, as "$n = value -- type" ("?n" for
// SQLite's placeholders, in order): the store's stamp as <now>, byte
// slices as text.
func renderArgs(mark string, args []any) string {
	var b strings.Builder
	for i, a := range args {
		fmt.Fprintf(&b, "%s%d = %s -- %T\n", mark, i+1, renderArg(a), a)
	}
	return b.String()
}

func renderArg(a any) string {
	switch v := a.(type) {
	case nil:
		return "NULL"
	case string:
		return "'" + strings.ReplaceAll(v, "'", "''") + "'"
	case []byte:
		if v == nil {
			return "NULL"
		}
		return "'" + strings.ReplaceAll(string(v), "'", "''") + "'"
	case *time.Time:
		if v == nil {
			return "NULL"
		}
		return renderArg(*v)
	case time.Time:
		if v.Equal(goldenAt) {
			return "'" + v.Format(time.RFC3339Nano) + "'"
		}
		return "<now>"
	}
	return fmt.Sprint(a)
}

func checkGolden(t *testing.T, file, got string) {
	t.Helper()
	path := filepath.Join(goldenDir, file)
	if *update {
		if err := os.MkdirAll(goldenDir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./gormstore -run Golden -update)", err)
	}
	if !bytes.Equal(want, []byte(got)) {
		t.Errorf("%s differs from the statement built (run go test ./gormstore -run Golden -update and review the diff):\n%s", path, lineDiff(string(want), got))
	}
}

// lineDiff shows the first lines where want and got part.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := range max(len(w), len(g)) {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl == gl {
			continue
		}
		fmt.Fprintf(&b, "line %d:\n- %s\n+ %s\n", i+1, wl, gl)
		if shown++; shown == 10 {
			b.WriteString("...\n")
			break
		}
	}
	return b.String()
}
