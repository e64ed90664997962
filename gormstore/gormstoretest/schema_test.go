package gormstoretest_test

import (
	"strings"
	"testing"

	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/paylinkgo/paylink/gormstore/gormstoretest"
)

// A table made through the DSN lands in the test's own schema, and the
// schema is gone once the test that made it has ended.
func TestPostgresSchemaIsTheTestsOwnAndDropped(t *testing.T) {
	var schema string
	t.Run("inner", func(t *testing.T) {
		dsn := gormstoretest.PostgresSchema(t, "paylink_gormstoretest")
		db, err := gorm.Open(postgres.Open(dsn), &gorm.Config{Logger: logger.Discard})
		if err != nil {
			t.Fatal(err)
		}
		defer func() {
			if sqlDB, err := db.DB(); err == nil {
				sqlDB.Close()
			}
		}()
		if err := db.Exec("CREATE TABLE t (id int)").Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Raw("SELECT table_schema FROM information_schema.tables WHERE table_name = 't' AND table_schema LIKE 'paylink_gormstoretest_%'").Scan(&schema).Error; err != nil || !strings.HasPrefix(schema, "paylink_gormstoretest_") {
			t.Fatalf("the table is in schema %q (%v), want the test's own", schema, err)
		}
	})
	if schema == "" {
		t.Skip("the inner test was skipped: no PostgreSQL server")
	}
	dsn := gormstoretest.PostgresSchema(t, "paylink_gormstoretest")
	db, err := gorm.Open(postgres.Open(dsn), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if sqlDB, err := db.DB(); err == nil {
			sqlDB.Close()
		}
	}()
	var n int
	if err := db.Raw("SELECT count(*) FROM information_schema.schemata WHERE schema_name = ?", schema).Scan(&n).Error; err != nil || n != 0 {
		t.Fatalf("schema %s after its test ended: %d found (%v), want dropped", schema, n, err)
	}
}

func TestWithSearchPathRefusesABrokenURL(t *testing.T) {
	if _, err := gormstoretest.WithSearchPath("postgres://a b:%zz@host/db", "s"); err == nil {
		t.Fatal("a broken URL gave no error")
	}
}
