package httpapi

import "github.com/jackc/pgx/v5/pgxpool"

// ClassPool exposes the database pool of a request class ("interactive",
// "siting", "download") to the tests of package httpapi_test.
func ClassPool(s *Server, class string) *pgxpool.Pool {
	return map[string]*pgxpool.Pool{"interactive": s.pool, "siting": s.sitingPool, "download": s.downloadPool}[class]
}

// SharedBucketSQL is the shared rate-limit UPSERT, for measuring its cost.
const SharedBucketSQL = sharedBucketSQL
