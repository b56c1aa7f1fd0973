package applications

import (
	"context"

	"github.com/jackc/pgx/v5"

	"villageplan/internal/auth"
)

// ListSQL exposes the list's statements to the benchmark (its SQL-only
// ceiling): the parcels lookup, then the counts and the page.
func ListSQL(ctx context.Context, tx pgx.Tx, p *auth.Principal, f Filter) (countSQL string, countArgs []any, itemsSQL string, itemsArgs []any, err error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	parcels, err := parcelsOf(ctx, tx, f.Search)
	if err != nil {
		return "", nil, "", nil, err
	}
	countSQL, countArgs, itemsSQL, itemsArgs = listQueries(p, f, parcels)
	return countSQL, countArgs, itemsSQL, itemsArgs, nil
}
