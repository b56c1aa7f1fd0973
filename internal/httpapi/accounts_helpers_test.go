package httpapi_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/alexedwards/argon2id"
	"github.com/jackc/pgx/v5/pgxpool"

	"villageplan/internal/auth"
)

// cheapArgon keeps the tests' password hashes fast (same format).
var cheapArgon = &argon2id.Params{Memory: 8 * 1024, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}

// testAccounts is an accounts store on pool with cheap password hashes.
func testAccounts(pool *pgxpool.Pool) *auth.Store {
	s := auth.NewStore(pool)
	s.Params = cheapArgon
	return s
}

// bearerFor creates the account username with grants and an API token,
// and returns the Authorization header value ("Bearer vp_…").
func bearerFor(t testing.TB, pool *pgxpool.Pool, username string, grants ...auth.Grant) string {
	t.Helper()
	s := testAccounts(pool)
	u, _, err := s.CreateUser(context.Background(), auth.NewUser{Username: username, Password: "test password " + username, Grants: grants})
	if err != nil {
		t.Fatal(err)
	}
	secret, _, err := s.CreateToken(context.Background(), u.ID, "test", 0)
	if err != nil {
		t.Fatal(err)
	}
	return "Bearer " + secret
}

// withBearer sends every request that carries no Authorization header as
// the account of bearer (a real API token, checked by the real
// authenticator): the siting tests act as a township desk clerk.
func withBearer(h http.Handler, bearer string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			r.Header.Set("Authorization", bearer)
		}
		h.ServeHTTP(w, r)
	})
}
