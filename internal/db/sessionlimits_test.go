package db_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"villageplan/internal/db"
	"villageplan/internal/testpg"
)

// BenchmarkStatementLimit compares the two ways of bounding a request's
// statement on the database side, on the shape of the items/{id} query
// (one indexed row): the limit as a startup parameter of the pool's
// sessions (db.DerivePool, what the HTTP classes use: nothing per
// request) against SET LOCAL statement_timeout in a transaction around
// the query (BEGIN, SET LOCAL, SELECT, COMMIT: three more round trips).
//
//	go test -run '^$' -bench StatementLimit -benchtime 3s ./internal/db/
func BenchmarkStatementLimit(b *testing.B) {
	base := testpg.New(b)
	ctx := context.Background()
	if _, err := base.Exec(ctx, `CREATE TABLE bench_rows AS SELECT i AS id, md5(i::text) AS v FROM generate_series(1, 100000) i;
		ALTER TABLE bench_rows ADD PRIMARY KEY (id)`); err != nil {
		b.Fatal(err)
	}
	limited, err := db.DerivePool(base, 0, db.SessionLimits{Statement: 15 * time.Second, IdleInTransaction: 15 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	defer limited.Close()
	var v string
	b.Run("startup-parameter", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if err := limited.QueryRow(ctx, `SELECT v FROM bench_rows WHERE id = $1`, i%100000+1).Scan(&v); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("set-local", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			err := pgx.BeginFunc(ctx, base, func(tx pgx.Tx) error {
				if _, err := tx.Exec(ctx, `SET LOCAL statement_timeout = 15000`); err != nil {
					return err
				}
				return tx.QueryRow(ctx, `SELECT v FROM bench_rows WHERE id = $1`, i%100000+1).Scan(&v)
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}
