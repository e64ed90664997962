package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/glebarez/sqlite"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/paylinkgo/paylink/ginadapter"
	"github.com/paylinkgo/paylink/gormstore"
)

// shopDatabase is a database the shop runs on: env returns the shop's
// environment for a fresh one.
type shopDatabase struct {
	name string
	env  func(t *testing.T) map[string]string
}

// shopDatabases are the databases the bad-input tests run the shop on:
// SQLite always, PostgreSQL when PAYLINK_TEST_POSTGRES_DSN is set.
func shopDatabases() []shopDatabase {
	return []shopDatabase{
		{"SQLite", func(t *testing.T) map[string]string { return shopEnv(t.TempDir()) }},
		{"PostgreSQL", func(t *testing.T) map[string]string {
			env := shopEnv(t.TempDir())
			env["DATABASE_URL"] = postgresSchemaURL(t)
			return env
		}},
	}
}

// openShopDB opens the database of a shop started with env.
func openShopDB(t *testing.T, env map[string]string) *gorm.DB {
	t.Helper()
	dialector := sqlite.Open(gormstore.OpenSQLiteDSN(env["SHOP_SQLITE_PATH"]))
	if env["DATABASE_URL"] != "" {
		dialector = postgres.Open(env["DATABASE_URL"])
	}
	db, err := gorm.Open(dialector, &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if sqlDB, err := db.DB(); err == nil {
			sqlDB.Close()
		}
	})
	return db
}

// shopTables are the tables an order touches.
func shopTables() []string { return []string{"shop_orders", "paylink_links"} }

// rowCounts counts the rows of the shop's and paylink's tables.
func rowCounts(t *testing.T, db *gorm.DB) map[string]int64 {
	t.Helper()
	counts := make(map[string]int64)
	for _, table := range shopTables() {
		var n int64
		if err := db.Table(table).Count(&n).Error; err != nil {
			t.Fatalf("counting %s: %v", table, err)
		}
		counts[table] = n
	}
	return counts
}

// post sends body to POST /orders with the content type (none when
// empty) and returns the status and the raw answer.
func (s *testShop) post(contentType, body string) (int, []byte) {
	s.t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.base+"/orders", strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := s.client.Do(req)
	if err != nil {
		s.t.Fatalf("POST /orders: %v", err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return res.StatusCode, data
}

// TestCreateOrderBadInput sends POST /orders what a careless client or an
// attacker may send, and checks for each request its exact answer, that
// no input is a 5xx (the shop's contract: invalid input is a 4xx naming
// the field), and that a refused order leaves no order and no link
// behind. It runs on SQLite, and on PostgreSQL when
// PAYLINK_TEST_POSTGRES_DSN is set: PostgreSQL refuses text (a NUL byte)
// that SQLite stores, and that refusal must be the client's 4xx, never a
// 503 asking it to retry the same bytes.
func TestCreateOrderBadInput(t *testing.T) {
	t.Parallel()
	const (
		created  = http.StatusCreated
		bad      = http.StatusBadRequest
		invalid  = http.StatusUnprocessableEntity
		tooLarge = http.StatusRequestEntityTooLarge
		// unsupported is the answer to a body not labelled application/json.
		unsupported = http.StatusUnsupportedMediaType
		jsonType    = "application/json"
	)
	// order returns a valid order body with the named fields replaced by
	// raw JSON text, sent exactly as written.
	order := func(raw map[string]string) string {
		fields := map[string]string{"title": `"Coffee beans 1 kg"`, "amount": `45000`, "customer": `{"name":"Budi","email":"budi@example.com","phone":"08123456789"}`}
		for k, v := range raw {
			fields[k] = v
		}
		parts := make([]string, 0, len(fields))
		for k, v := range fields {
			parts = append(parts, fmt.Sprintf("%q:%s", k, v))
		}
		return "{" + strings.Join(parts, ",") + "}"
	}
	customer := func(field, raw string) string {
		c := map[string]string{"name": `"Budi"`, "email": `"budi@example.com"`, "phone": `"08123456789"`}
		c[field] = raw
		return fmt.Sprintf(`{"name":%s,"email":%s,"phone":%s}`, c["name"], c["email"], c["phone"])
	}
	valid := order(nil)
	tests := []struct {
		name        string
		contentType string // default application/json; "none" sends none
		body        string
		status      int
		field       string // the field a refusal must name, if any
	}{
		{name: "a valid order is created", body: valid, status: created},

		// Not one JSON object.
		{name: "a body that is not JSON is 400", body: `title=Coffee&amount=45000`, status: bad},
		{name: "an empty body is 400", body: ``, status: bad},
		{name: "a JSON array is 400", body: `[` + valid + `]`, status: bad},
		{name: "a JSON string is 400", body: `"Coffee beans 1 kg"`, status: bad},
		{name: "a JSON number is 400", body: `45000`, status: bad},
		{name: "JSON null is 400", body: `null`, status: bad},
		{name: "an order with a second closing brace is 400", body: valid + `}`, status: bad},
		{name: "an order with a closing bracket after it is 400", body: valid + `]`, status: bad},
		{name: "an order followed by a second object is 400", body: valid + `{}`, status: bad},
		{name: "an order cut off in the middle is 400", body: valid[:len(valid)/2], status: bad},
		{name: "an order nested 20,000 levels deep is 400", body: `{"title":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`, status: bad},

		// Wrong types.
		{name: "a title that is an object is 400 naming title", body: order(map[string]string{"title": `{"en":"Coffee"}`}), status: bad, field: "title"},
		{name: "a title that is a number is 400 naming title", body: order(map[string]string{"title": `42`}), status: bad, field: "title"},
		{name: "a customer that is a string is 400 naming customer", body: order(map[string]string{"customer": `"Budi"`}), status: bad, field: "customer"},
		{name: "a customer email that is an array is 400 naming customer.email", body: order(map[string]string{"customer": customer("email", `["budi@example.com"]`)}), status: bad, field: "customer.email"},
		{name: "a step that is null is the default step: created", body: order(map[string]string{"step": `null`}), status: created},

		// Amounts.
		{name: "a negative amount is 422 naming amount", body: order(map[string]string{"amount": `-45000`}), status: invalid, field: "amount"},
		{name: "a zero amount is 422 naming amount", body: order(map[string]string{"amount": `0`}), status: invalid, field: "amount"},
		{name: "an amount with a fraction is 400 naming amount", body: order(map[string]string{"amount": `45000.5`}), status: bad, field: "amount"},
		{name: "an amount in exponent notation is 400 naming amount", body: order(map[string]string{"amount": `4.5e4`}), status: bad, field: "amount"},
		{name: "an amount beyond int64 is 400 naming amount", body: order(map[string]string{"amount": `9223372036854775808`}), status: bad, field: "amount"},
		{name: "an amount that is SQL is 400 naming amount", body: order(map[string]string{"amount": `"45000; DELETE FROM shop_orders"`}), status: bad, field: "amount"},

		// NUL, control characters, invalid UTF-8, Unicode.
		{name: "a NUL byte in the title is 422 naming title", body: order(map[string]string{"title": `"Coffee\u0000beans"`}), status: invalid, field: "title"},
		{name: "a NUL byte in customer.name is 422 naming customer.name", body: order(map[string]string{"customer": customer("name", `"Bu\u0000di"`)}), status: invalid, field: "customer.name"},
		{name: "a NUL byte in customer.email is 422 naming customer.email", body: order(map[string]string{"customer": customer("email", `"budi@example.com\u0000"`)}), status: invalid, field: "customer.email"},
		{name: "a NUL byte in customer.phone is 422 naming customer.phone", body: order(map[string]string{"customer": customer("phone", `"0812\u00003456"`)}), status: invalid, field: "customer.phone"},
		{name: "a NUL byte in sender_bank is 422 naming sender_bank", body: order(map[string]string{"sender_bank": `"bni\u0000"`}), status: invalid, field: "sender_bank"},
		{name: "a bell character in the title is 422 naming title", body: order(map[string]string{"title": `"Coffee\u0007"`}), status: invalid, field: "title"},
		{name: "a newline in customer.name is 422 naming customer.name", body: order(map[string]string{"customer": customer("name", `"Budi\nSantoso"`)}), status: invalid, field: "customer.name"},
		{name: "an escape sequence in customer.phone is 422 naming customer.phone", body: order(map[string]string{"customer": customer("phone", `"\u001b[2J0812"`)}), status: invalid, field: "customer.phone"},
		{name: "invalid UTF-8 in the title, read as U+FFFD, is refused by Flip: 422 naming title", body: order(map[string]string{"title": "\"Coffee \xff\xfe\""}), status: invalid, field: "title"},
		{name: "an emoji in the title is refused by Flip: 422 naming title", body: order(map[string]string{"title": `"Coffee ☕"`}), status: invalid, field: "title"},
		{name: "accented letters in the title are created", body: order(map[string]string{"title": `"Kopi Gayo édition spéciale"`}), status: created},
		{name: "a title of 256 characters is 422 naming title", body: order(map[string]string{"title": `"` + strings.Repeat("é", 256) + `"`}), status: invalid, field: "title"},
		{name: "a title of 255 characters is created", body: order(map[string]string{"title": `"` + strings.Repeat("é", 255) + `"`}), status: created},

		// SQL and path traversal.
		{name: "SQL in the title is refused by Flip: 422 naming title", body: order(map[string]string{"title": `"Coffee'; DROP TABLE shop_orders; --"`}), status: invalid, field: "title"},
		{name: "SQL in customer.name is refused by Flip: 422 naming customer.name", body: order(map[string]string{"step": `2`, "customer": customer("name", `"Budi' OR '1'='1"`)}), status: invalid, field: "customer.name"},
		{name: "SQL in customer.email is 422 naming customer.email", body: order(map[string]string{"customer": customer("email", `"x' OR '1'='1@example.com"`)}), status: invalid, field: "customer.email"},
		{name: "a header injection in customer.email is 422 naming customer.email", body: order(map[string]string{"customer": customer("email", `"budi@example.com\r\nBcc: all@example.com"`)}), status: invalid, field: "customer.email"},
		{name: "a path traversal as the title is created, stored as sent", body: order(map[string]string{"title": `"../../../etc/passwd"`}), status: created},
		{name: "a path traversal in sender_bank is refused by Flip: 422 naming sender_bank", body: order(map[string]string{"step": `3`, "sender_bank": `"../../bni"`, "sender_bank_type": `"virtual_account"`}), status: invalid, field: "sender_bank"},

		// Content types and sizes.
		// A page on another site can make a browser send text/plain, a
		// form or multipart without a preflight: none of them creates an
		// order.
		{name: "a JSON order labelled text/plain is 415", contentType: "text/plain", body: valid, status: unsupported},
		{name: "a JSON order labelled text/plain with a charset is 415", contentType: "text/plain; charset=utf-8", body: valid, status: unsupported},
		{name: "a JSON order labelled as a form is 415", contentType: "application/x-www-form-urlencoded", body: valid, status: unsupported},
		{name: "a form-encoded order is 415", contentType: "application/x-www-form-urlencoded", body: `title=Coffee&amount=45000`, status: unsupported},
		{name: "a JSON order labelled multipart is 415", contentType: "multipart/form-data; boundary=x", body: valid, status: unsupported},
		{name: "a JSON order without a content type is 415", contentType: "none", body: valid, status: unsupported},
		{name: "a JSON order labelled application/json; charset=utf-8 is created", contentType: "application/json; charset=utf-8", body: valid, status: created},
		{name: "a JSON order labelled Application/JSON is created", contentType: "Application/JSON", body: valid, status: created},
		{name: "a body over the 64 KiB limit is 413", body: order(map[string]string{"title": `"` + strings.Repeat("x", 65<<10) + `"`}), status: tooLarge},
	}

	for _, db := range shopDatabases() {
		t.Run(db.name, func(t *testing.T) {
			t.Parallel()
			env := db.env(t)
			s := startShop(t, env)
			rows := openShopDB(t, env)
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					contentType := tc.contentType
					switch contentType {
					case "":
						contentType = jsonType
					case "none":
						contentType = ""
					}
					before := rowCounts(t, rows)
					status, answer := s.post(contentType, tc.body)
					after := rowCounts(t, rows)
					if status >= 500 {
						t.Errorf("answer %d: invalid input must be a 4xx, never a server error; body %s", status, answer)
					}
					if status != tc.status {
						t.Fatalf("answer %d, want %d; body %.300s", status, tc.status, answer)
					}
					gained := int64(0)
					if status == created {
						gained = 1
					}
					for _, table := range shopTables() {
						if got := after[table] - before[table]; got != gained {
							t.Errorf("%s gained %d rows, want %d", table, got, gained)
						}
					}
					if status == created {
						return
					}
					var e errorBody
					if err := json.Unmarshal(answer, &e); err != nil || e.Error == "" {
						t.Fatalf("refusal is not a JSON error with a message (%v): %.300s", err, answer)
					}
					if tc.field == "" {
						return
					}
					named := false
					for _, f := range e.Fields {
						named = named || f.Field == tc.field
					}
					if !named || !strings.Contains(e.Error, tc.field) {
						t.Errorf("refusal %+v, want it to name the field %q", e, tc.field)
					}
				})
			}
		})
	}
}

// TestOrderPaidByACustomerNamedWithANULIsPaidOnce: Flip reports the payer
// as the bank knows them, and a name with a NUL byte is refused by
// PostgreSQL. The callback must still be answered 200 and the order end
// PAID with one receipt, on either database.
func TestOrderPaidByACustomerNamedWithANULIsPaidOnce(t *testing.T) {
	t.Parallel()
	for _, db := range shopDatabases() {
		t.Run(db.name, func(t *testing.T) {
			t.Parallel()
			s := startShop(t, db.env(t))
			o := s.createOrder(coffee())
			fake := fakeURL(t, o)
			var pay struct {
				ID string `json:"id"`
			}
			u := fmt.Sprintf("%s/_fliptest/bills/%s/pay", fake, o.Payment.LinkID)
			if st := s.do(http.MethodPost, u, map[string]any{"sender_name": "Bu\x00di"}, &pay); st != http.StatusOK || pay.ID == "" {
				t.Fatalf("POST %s = %d %+v, want 200 with a payment", u, st, pay)
			}
			s.waitAcknowledged(fake, pay.ID, 1)
			paid := s.waitOrder(o.ID, "PAID with a receipt", func(o orderView) bool { return o.Status == OrderPaid && o.ReceiptsSent >= 1 })
			if paid.ReceiptsSent != 1 {
				t.Errorf("receipts_sent = %d, want 1", paid.ReceiptsSent)
			}
		})
	}
}

// TestDatabaseRefusalOfAValueIsTheClients: a value PostgreSQL refuses to
// store (a data exception, SQLSTATE class 22) is answered 422, since
// sending the same bytes again fails again; a database that fails is
// still 503, so the client retries later.
func TestDatabaseRefusalOfAValueIsTheClients(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		err    error
		status int
	}{
		{"a NUL byte in text (22021)", &pgconn.PgError{Code: "22021", Message: `invalid byte sequence for encoding "UTF8": 0x00`}, http.StatusUnprocessableEntity},
		{"a value too long for its column (22001)", fmt.Errorf("insert: %w", &pgconn.PgError{Code: "22001", Message: "value too long for type character varying(255)"}), http.StatusUnprocessableEntity},
		{"a server shutting down (57P01)", &pgconn.PgError{Code: "57P01", Message: "terminating connection due to administrator command"}, http.StatusServiceUnavailable},
		{"a deadlock (40P01)", &pgconn.PgError{Code: "40P01", Message: "deadlock detected"}, http.StatusServiceUnavailable},
		{"a closed pool", errors.New("sql: database is closed"), http.StatusServiceUnavailable},
	}
	for _, tt := range tests {
		if got := ginadapter.StatusCode(dbError("shop.CreateOrder", tt.err)); got != tt.status {
			t.Errorf("%s: status %d, want %d", tt.name, got, tt.status)
		}
	}
}
