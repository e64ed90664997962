package gormstore_test

import (
	"context"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/paylinkgo/paylink/gormstore"
	"github.com/paylinkgo/paylink/provider"
	"github.com/paylinkgo/paylink/provider/providertest"
)

// steps is the number of steps in gormstore/migrations, per dialect.
const steps = 3

// paylinkTables are the tables Migrate owns, the version table aside.
var paylinkTables = []string{
	"paylink_links", "paylink_payments", "paylink_callbacks", "paylink_events",
	"paylink_status_changes", "paylink_hook_runs", "paylink_link_intents", "paylink_operator_actions",
}

// A fresh database and one written by the last release before versioned
// migrations (AutoMigrate, no version table) end up with the same schema,
// column by column and index by index, and that schema is the one that
// release made: step 1 is that release's schema, and adopting changes
// nothing.
func TestMigrateMakesTheSchemaOfTheLastAutoMigrateRelease(t *testing.T) {
	t.Parallel()
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			release := b.open(t)
			if err := migrateAsV1(ctx, release); err != nil {
				t.Fatalf("the release's AutoMigrate: %v", err)
			}
			if err := gormstore.Migrate(ctx, release); err != nil {
				t.Fatalf("Migrate the release's database: %v", err)
			}
			// Steps 1 and 2 adopt the release's schema as it is; later
			// steps change it alike in both databases.
			want := schemaOf(t, release)

			fresh := b.open(t)
			if err := gormstore.Migrate(ctx, fresh); err != nil {
				t.Fatalf("Migrate a fresh database: %v", err)
			}
			if got := schemaOf(t, fresh); got != want {
				t.Errorf("a fresh database differs from the release's, both migrated:\n%s", diffLines(want, got))
			}
			if v, f := version(t, release), version(t, fresh); v != steps || f != steps {
				t.Errorf("versions: adopted %d, fresh %d; want %d", v, f, steps)
			}
		})
	}
}

// Every column of every model is in the migrated tables and every column
// of the migrated tables is a field of a model: a step that forgets the
// model, or a model that forgets a step, fails here.
func TestModelsMatchTheMigratedSchema(t *testing.T) {
	t.Parallel()
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			db := b.open(t)
			if err := gormstore.Migrate(t.Context(), db); err != nil {
				t.Fatalf("Migrate: %v", err)
			}
			var tables []string
			for _, m := range gormstore.Models() {
				stmt := &gorm.Statement{DB: db}
				if err := stmt.Parse(m); err != nil {
					t.Fatal(err)
				}
				tables = append(tables, stmt.Schema.Table)
				var fields []string
				for _, f := range stmt.Schema.Fields {
					if f.DBName != "" {
						fields = append(fields, f.DBName)
						if !db.Migrator().HasColumn(m, f.DBName) {
							t.Errorf("%s: no column %s for %T.%s", stmt.Schema.Table, f.DBName, m, f.Name)
						}
					}
				}
				cols, err := db.Migrator().ColumnTypes(m)
				if err != nil {
					t.Fatalf("columns of %s: %v", stmt.Schema.Table, err)
				}
				for _, c := range cols {
					if !slices.Contains(fields, c.Name()) {
						t.Errorf("%s: column %s is no field of %T", stmt.Schema.Table, c.Name(), m)
					}
				}
			}
			slices.Sort(tables)
			want := slices.Sorted(slices.Values(paylinkTables))
			if !slices.Equal(tables, want) {
				t.Errorf("the models' tables are %v, want %v", tables, want)
			}
		})
	}
}

// The "done when": a database of the last release before versioned
// migrations, holding links, payments with refunds, status history,
// callbacks (one flagged), a pending hook run, a link intent and an
// operator action, migrates with every row and every value intact, and the
// store goes on working on it. Migrating again changes nothing.
func TestMigrateKeepsEveryRowOfTheLastAutoMigrateRelease(t *testing.T) {
	t.Parallel()
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			db := b.open(t)
			if err := migrateAsV1(ctx, db); err != nil {
				t.Fatalf("the release's AutoMigrate: %v", err)
			}
			store, err := gormstore.New(db, testOptions())
			if err != nil {
				t.Fatal(err)
			}
			writeARelease(t, db, store)
			before := rowsOf(t, db)
			for _, table := range []string{"paylink_links", "paylink_payments", "paylink_callbacks", "paylink_events",
				"paylink_status_changes", "paylink_hook_runs", "paylink_link_intents", "paylink_operator_actions"} {
				if len(before[table]) == 0 {
					t.Fatalf("the release's database has no row in %s: the test writes too little", table)
				}
			}

			// Step 3 names each hook run's payment, read from its event:
			// the partial refund's run names P1 (its event id,
			// "mem:P1:PARTIALLY_REFUNDED:3000", is no payment), a run
			// whose event is gone names none.
			want := rowsOf(t, db)
			for _, r := range want["paylink_hook_runs"] {
				r["provider"], r["payment_id"] = "", ""
				if r["event_id"] != "mem:ghost:SUCCESSFUL" {
					r["provider"], r["payment_id"] = "mem", "P1"
				}
			}
			for i := range 2 {
				if err := gormstore.Migrate(ctx, db); err != nil {
					t.Fatalf("Migrate #%d: %v", i+1, err)
				}
				if after := rowsOf(t, db); !reflect.DeepEqual(want, after) {
					t.Fatalf("Migrate #%d changed rows:\n%s", i+1, diffLines(fmt.Sprint(want), fmt.Sprint(after)))
				}
				if v := version(t, db); v != steps {
					t.Errorf("version after Migrate #%d: %d, want %d", i+1, v, steps)
				}
				if n := stepRecords(t, db); !reflect.DeepEqual(n, eachStepOnce()) {
					t.Errorf("steps recorded after Migrate #%d: %v, want each once", i+1, n)
				}
			}

			// The store reads the old rows as the release wrote them.
			p, err := store.GetPayment(ctx, "mem", "P1")
			if err != nil || p.State() != (provider.PaymentState{Status: provider.PaymentPartiallyRefunded, Refunded: 3000}) || p.Amount != provider.Rupiah(10000) {
				t.Fatalf("the payment after Migrate: %+v, %v; want 10000, partially refunded 3000", p, err)
			}
			history, err := store.ListStatusChanges(ctx, "mem", "P1")
			if err != nil || len(history) != 2 {
				t.Fatalf("history after Migrate: %+v, %v; want paid then refunded", history, err)
			}
			flagged, err := store.ListCallbacks(ctx, provider.CallbackFilter{Flagged: true})
			if err != nil || len(flagged) != 1 || flagged[0].Verdict != provider.VerdictAmountMismatch {
				t.Fatalf("flagged callbacks after Migrate: %+v, %v; want the amount mismatch", flagged, err)
			}
			actions, err := store.ListActions(ctx, provider.ActionFilter{})
			if err != nil || len(actions) != 1 || actions[0].Actor != "ops@example.com" {
				t.Fatalf("actions after Migrate: %+v, %v", actions, err)
			}
			runs, err := store.ListHookRuns(ctx, provider.HookRunFilter{Provider: "mem", PaymentID: "P1"})
			if err != nil || len(runs) != 2 || runs[1].EventID != "mem:P1:PARTIALLY_REFUNDED:3000" {
				t.Fatalf("the runs of payment P1 after Migrate: %+v, %v; want the payment's and the refund's", runs, err)
			}
			claimed, err := store.ClaimHookRuns(ctx, []string{"mark_paid"}, 10, time.Minute)
			if err != nil || len(claimed) != 1 || claimed[0].Run.PaymentID != "P1" {
				t.Fatalf("the pending hook run after Migrate: %+v, %v; want it claimable, naming P1", claimed, err)
			}
		})
	}
}

// writeARelease writes, through the store and a Service on it as the
// release would, a link with a paid and partly refunded payment, a flagged
// callback, a link intent and an operator action; and, in the release's
// own shape (the store of today names a run's payment, the release did
// not), pending hook runs of the payment and of the refund, and a failed
// run whose event is gone.
func writeARelease(t *testing.T, db *gorm.DB, store *gormstore.Store) {
	t.Helper()
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Microsecond)
	link := provider.Link{ID: "L1", Provider: "mem", Title: "Order 42", Amount: provider.Rupiah(10000),
		Status: provider.LinkActive, Type: provider.LinkSingle, CreatedAt: now, UpdatedAt: now}
	if err := store.SaveLink(ctx, &provider.LinkWrite{Provider: link.Provider, ID: link.ID, Link: &link}); err != nil {
		t.Fatalf("PutLink: %v", err)
	}
	if _, err := store.PutLinkIntent(ctx, provider.LinkIntent{Key: "order-43", Provider: "mem", ParamsHash: "h",
		Title: "Order 43", Type: provider.LinkSingle, Amount: provider.Rupiah(5000), CreatedAt: now}); err != nil {
		t.Fatalf("PutLinkIntent: %v", err)
	}
	svc, err := provider.NewService(store, provider.ServiceOptions{
		Providers: []provider.Provider{providertest.NewMemProvider("mem", "tok")}, InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	apply := func(st provider.PaymentStatus, amount, refunded int64, want provider.Verdict) {
		t.Helper()
		out, err := svc.ApplyEvent(ctx, &provider.Event{Provider: "mem", Source: provider.SourceCallback, Raw: []byte(`{"id":"P1"}`),
			Payment: provider.Payment{ID: "P1", LinkID: "L1", Status: st, Amount: provider.Rupiah(amount), RefundedAmount: provider.Rupiah(refunded),
				Sender: provider.Customer{Name: "Budi"}, Method: provider.PaymentMethod{Bank: "bca"}}})
		if err != nil || out.Verdict != want {
			t.Fatalf("ApplyEvent %s %d/%d: %v, %v; want %s", st, amount, refunded, out.Verdict, err, want)
		}
	}
	apply(provider.PaymentSuccessful, 10000, 0, provider.VerdictApplied)
	apply(provider.PaymentSuccessful, 9000, 0, provider.VerdictAmountMismatch)
	apply(provider.PaymentPartiallyRefunded, 10000, 3000, provider.VerdictApplied)
	if err := store.RecordAction(ctx, &provider.OperatorAction{Kind: provider.ActionRefetchPayment, Actor: "ops@example.com",
		Provider: "mem", PaymentID: "P1", LinkID: "L1", Result: "applied", At: now}); err != nil {
		t.Fatalf("RecordAction: %v", err)
	}
	run := func(eventID, state string) *v1HookRunRecord {
		return &v1HookRunRecord{EventID: eventID, Hook: "mark_paid", State: state, Attempts: 1, LastError: "",
			IdempotencyKey: provider.HookIdempotencyKey(eventID, "mark_paid"), NextAt: now, CreatedAt: now, UpdatedAt: now}
	}
	for _, r := range []*v1HookRunRecord{
		run("mem:P1:SUCCESSFUL", "succeeded"),
		run("mem:P1:PARTIALLY_REFUNDED:3000", "pending"),
		run("mem:ghost:SUCCESSFUL", "failed"),
	} {
		if err := db.WithContext(ctx).Create(r).Error; err != nil {
			t.Fatalf("the release's hook run %s: %v", r.EventID, err)
		}
	}
}

// Eight replicas start at once on a fresh schema and all call Migrate:
// all succeed, and each step is recorded once.
func TestMigrateConcurrentlyOnPostgres(t *testing.T) {
	t.Parallel()
	dsn := newSchema(t)
	dbs := make([]*gorm.DB, 8)
	for i := range dbs {
		dbs[i] = openPostgres(t, dsn)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	errs := make([]error, len(dbs))
	var wg sync.WaitGroup
	for i, db := range dbs {
		wg.Go(func() { errs[i] = gormstore.Migrate(ctx, db) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("replica %d: Migrate: %v", i, err)
		}
	}
	if n := stepRecords(t, dbs[0]); !reflect.DeepEqual(n, eachStepOnce()) {
		t.Errorf("steps recorded: %v, want each once", n)
	}
	s, err := gormstore.New(dbs[0], testOptions())
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	link := provider.Link{ID: "1", Provider: "test", Status: provider.LinkActive, Amount: provider.Rupiah(1)}
	if err := s.SaveLink(ctx, &provider.LinkWrite{Provider: link.Provider, ID: link.ID, Link: &link}); err != nil {
		t.Fatalf("PutLink after concurrent migrations: %v", err)
	}
}

// Two schemas of one database each get their own tables and their own
// version table: migrating one leaves the other alone.
func TestMigrateStaysInTheConnectionsSchema(t *testing.T) {
	t.Parallel()
	a, b := openPostgres(t, newSchema(t)), openPostgres(t, newSchema(t))
	if err := gormstore.Migrate(t.Context(), a); err != nil {
		t.Fatalf("Migrate a: %v", err)
	}
	if n := tablesInSchema(t, b); n != 0 {
		t.Fatalf("schema b holds %d tables after migrating a, want 0", n)
	}
	if err := gormstore.Migrate(t.Context(), b); err != nil {
		t.Fatalf("Migrate b: %v", err)
	}
	for name, db := range map[string]*gorm.DB{"a": a, "b": b} {
		if n := tablesInSchema(t, db); n != len(paylinkTables)+1 {
			t.Errorf("schema %s holds %d tables, want %d and %s", name, n, len(paylinkTables), gormstore.MigrationsTable)
		}
		if n := stepRecords(t, db); !reflect.DeepEqual(n, eachStepOnce()) {
			t.Errorf("schema %s recorded %v, want each step once", name, n)
		}
	}
}

// A CREATE INDEX CONCURRENTLY that failed leaves an INVALID index and an
// unrecorded step; the next Migrate drops the invalid index and builds it
// again, with its right definition.
func TestMigrateRebuildsAnIndexWhoseConcurrentBuildFailed(t *testing.T) {
	t.Parallel()
	db := openPostgres(t, newSchema(t))
	ctx := t.Context()
	if err := gormstore.Migrate(ctx, db); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	// Step 2 "failed" at paylink_callbacks_received_at: a unique build over
	// duplicate times fails and leaves the index INVALID.
	for _, q := range []string{
		"DELETE FROM " + gormstore.MigrationsTable + " WHERE version_id >= 2", // and step 3, never reached
		"DROP INDEX paylink_callbacks_received_at",
		"INSERT INTO paylink_callbacks (provider, payment_id, link_id, status, amount, currency, verdict, received_at) VALUES " +
			"('mem','P1','L1','SUCCESSFUL',1,'IDR','applied','2025-01-01T00:00:00Z'), ('mem','P1','L1','SUCCESSFUL',1,'IDR','duplicate','2025-01-01T00:00:00Z')",
	} {
		if err := db.Exec(q).Error; err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := db.Exec("CREATE UNIQUE INDEX CONCURRENTLY paylink_callbacks_received_at ON paylink_callbacks (received_at)").Error; err == nil {
		t.Fatal("the unique build over duplicates succeeded; the test needs it to fail")
	}
	if valid, def := indexState(t, db, "paylink_callbacks_received_at"); valid {
		t.Fatalf("the failed build left a valid index (%s); want INVALID", def)
	}

	if err := gormstore.Migrate(ctx, db); err != nil {
		t.Fatalf("Migrate after the failed build: %v", err)
	}
	valid, def := indexState(t, db, "paylink_callbacks_received_at")
	if !valid || strings.Contains(def, "UNIQUE") || !strings.Contains(def, "(received_at)") {
		t.Errorf("paylink_callbacks_received_at: valid %v, %s; want a valid, non-unique index on received_at", valid, def)
	}
	if n := stepRecords(t, db); !reflect.DeepEqual(n, eachStepOnce()) {
		t.Errorf("steps recorded: %v, want each once", n)
	}
}

// A database whose tables lack a column of the models (made by a release
// before the last AutoMigrate one) is refused, with nothing recorded:
// step 1 would find its tables and never add the column.
func TestMigrateRefusesTablesOlderThanTheLastAutoMigrateRelease(t *testing.T) {
	t.Parallel()
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			db := b.open(t)
			if err := db.AutoMigrate(&paymentBeforeRefunds{}); err != nil {
				t.Fatal(err)
			}
			err := gormstore.Migrate(t.Context(), db)
			if provider.CodeOf(err) != provider.CodeFailedPrecondition || !strings.Contains(err.Error(), "refunded_amount") {
				t.Fatalf("Migrate of a database before refunds: %v; want failed precondition naming refunded_amount", err)
			}
			if db.Migrator().HasTable(gormstore.MigrationsTable) {
				t.Errorf("the refused database has a %s", gormstore.MigrationsTable)
			}
		})
	}
}

// version returns the highest step the database recorded.
func version(t testing.TB, db *gorm.DB) int64 {
	t.Helper()
	var v int64
	if err := db.Raw("SELECT coalesce(max(version_id), 0) FROM " + gormstore.MigrationsTable + " WHERE is_applied").Scan(&v).Error; err != nil {
		t.Fatalf("reading the version: %v", err)
	}
	return v
}

// stepRecords counts the rows per step in the version table (goose's
// version 0 aside).
func stepRecords(t testing.TB, db *gorm.DB) map[int64]int {
	t.Helper()
	var rows []struct {
		VersionID int64
		N         int
	}
	if err := db.Raw("SELECT version_id, count(*) AS n FROM " + gormstore.MigrationsTable + " WHERE version_id > 0 GROUP BY version_id").Scan(&rows).Error; err != nil {
		t.Fatalf("reading the version table: %v", err)
	}
	n := map[int64]int{}
	for _, r := range rows {
		n[r.VersionID] = r.N
	}
	return n
}

func eachStepOnce() map[int64]int {
	n := map[int64]int{}
	for v := int64(1); v <= steps; v++ {
		n[v] = 1
	}
	return n
}

func tablesInSchema(t testing.TB, db *gorm.DB) int {
	t.Helper()
	var n int
	if err := db.Raw("SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()").Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func indexState(t testing.TB, db *gorm.DB, name string) (valid bool, def string) {
	t.Helper()
	var r struct {
		Valid bool
		Def   string
	}
	if err := db.Raw(`SELECT i.indisvalid AS valid, pg_get_indexdef(i.indexrelid) AS def FROM pg_index i
JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND c.relname = ?`, name).Scan(&r).Error; err != nil {
		t.Fatal(err)
	}
	return r.Valid, r.Def
}

// schemaOf describes paylink's tables (the version table aside) in the
// connection's schema, one line per column, index, constraint and
// function, in an order and form that do not depend on the schema's name
// or on how the DDL was spelled.
func schemaOf(t testing.TB, db *gorm.DB) string {
	t.Helper()
	var lines []string
	add := func(q string, args ...any) {
		t.Helper()
		rows, err := db.Raw(q, args...).Rows()
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		defer rows.Close()
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			for i, v := range vals {
				if i > 0 {
					b.WriteString(" | ")
				}
				if bs, ok := v.([]byte); ok {
					v = string(bs)
				}
				fmt.Fprint(&b, v)
			}
			lines = append(lines, b.String())
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	}
	if db.Dialector.Name() == "sqlite" {
		add("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE tbl_name <> ? AND name <> 'sqlite_sequence'", gormstore.MigrationsTable)
		for _, table := range paylinkTables {
			add("SELECT ?, cid, name, type, \"notnull\", dflt_value, pk FROM pragma_table_xinfo(?)", table, table)
			add("SELECT ?, name, \"unique\", origin, partial FROM pragma_index_list(?)", table, table)
		}
		for i, l := range lines {
			lines[i] = normalizeSQL(l)
		}
	} else {
		var schema string
		if err := db.Raw("SELECT current_schema()").Scan(&schema).Error; err != nil {
			t.Fatal(err)
		}
		add(`SELECT table_name, ordinal_position, column_name, data_type, character_maximum_length, is_nullable, column_default
FROM information_schema.columns WHERE table_schema = current_schema() AND table_name <> ?`, gormstore.MigrationsTable)
		add(`SELECT c.relname, i.indisvalid, i.indisunique, i.indisprimary, pg_get_indexdef(i.indexrelid)
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND c.relname NOT LIKE ?`, gormstore.MigrationsTable+"%")
		add(`SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid) FROM pg_constraint
WHERE connamespace = current_schema()::regnamespace AND conrelid::regclass::text <> ?`, gormstore.MigrationsTable)
		add(`SELECT sequence_name, data_type, start_value, increment FROM information_schema.sequences
WHERE sequence_schema = current_schema() AND sequence_name NOT LIKE ?`, gormstore.MigrationsTable+"%")
		add(`SELECT p.proname, pg_get_functiondef(p.oid) FROM pg_proc p WHERE p.pronamespace = current_schema()::regnamespace`)
		for i, l := range lines {
			lines[i] = strings.ReplaceAll(l, schema+".", "")
		}
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

var (
	spaces      = regexp.MustCompile(`\s+`)
	spacedPunct = regexp.MustCompile(` ?([(),]) ?`)
)

// normalizeSQL makes SQLite's stored DDL independent of its layout.
func normalizeSQL(s string) string {
	return spacedPunct.ReplaceAllString(spaces.ReplaceAllString(s, " "), "$1")
}

// rowsOf reads every row of paylink's tables, every column, by id.
func rowsOf(t testing.TB, db *gorm.DB) map[string][]map[string]any {
	t.Helper()
	out := map[string][]map[string]any{}
	for _, table := range paylinkTables {
		var rows []map[string]any
		err := db.Table(table).Order("id").Find(&rows).Error
		if err != nil && strings.Contains(err.Error(), "cached plan must not change result type") {
			// A step added columns since this connection last read the
			// table: pgx reports it once, then prepares the query anew.
			rows = nil
			err = db.Table(table).Order("id").Find(&rows).Error
		}
		if err != nil {
			t.Fatalf("reading %s: %v", table, err)
		}
		out[table] = rows
	}
	return out
}

// diffLines lists the lines only in want (-) or only in got (+).
func diffLines(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for _, l := range w {
		if !slices.Contains(g, l) {
			b.WriteString("- " + l + "\n")
		}
	}
	for _, l := range g {
		if !slices.Contains(w, l) {
			b.WriteString("+ " + l + "\n")
		}
	}
	return b.String()
}
