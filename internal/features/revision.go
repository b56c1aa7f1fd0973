package features

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"villageplan/internal/db"
	"villageplan/layers"
)

// Feature revisions and their ETags (OGC API – Features Part 4 optimistic
// concurrency).
//
// A feature's revision is the PostgreSQL xmin of its row: the id of the
// transaction that last inserted or updated it. Every UPDATE writes a new
// row version with a new xmin, whoever makes it (the service, an import,
// QGIS or psql), so the revision moves with every change and costs nothing
// to read (no history lookup, no extra column or trigger). It is read in
// the same statement as the feature, so a body and its ETag always agree.
// Physical replicas carry the same xmin, so a read from a replica gives
// the same ETag. Caveats, all on the safe side: a dump and restore gives every row a new
// xmin (clients then get one 412 and re-read); xmin is 32 bits, so two
// revisions of one row could only collide after 2³² transactions between a
// read and the write.
//
// The ETag is strong: "<feature id>.<revision>" for the default
// representation (GeoJSON in CRS84), "<feature id>.<revision>.<variant>"
// for another one (HTML, another CRS, links for another base URL), so
// that caches never mix representations. A write's If-Match is compared by
// revision: any representation's ETag of the current revision passes.

// ETag is the strong entity tag of the default representation of
// revision rev of feature id, quoted as in the ETag header: "12.7345".
func ETag(id int64, rev string) string {
	return `"` + strconv.FormatInt(id, 10) + "." + rev + `"`
}

// VariantETag is the ETag of another representation of the revision;
// variant is a short hex digest of what makes it differ.
func VariantETag(id int64, rev, variant string) string {
	return `"` + strconv.FormatInt(id, 10) + "." + rev + "." + variant + `"`
}

// ParseETag reads an ETag made by ETag or VariantETag (quotes required,
// W/ refused: a weak tag cannot guard a write); ok is false for anything
// else.
func ParseETag(tag string) (id int64, rev string, ok bool) {
	tag = strings.TrimSpace(tag)
	if len(tag) < 5 || tag[0] != '"' || tag[len(tag)-1] != '"' {
		return 0, "", false
	}
	parts := strings.Split(tag[1:len(tag)-1], ".")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, "", false
	}
	id, err := strconv.ParseInt(parts[0], 10, 64)
	if err != nil || id < 1 {
		return 0, "", false
	}
	if _, err := strconv.ParseUint(parts[1], 10, 32); err != nil {
		return 0, "", false
	}
	if len(parts) == 3 {
		if v := parts[2]; v == "" || len(v) > 16 || strings.Trim(v, "0123456789abcdef") != "" {
			return 0, "", false
		}
	}
	return id, parts[1], true
}

// FeatureRevision is Feature plus the feature's revision (see ETag), read
// in the same statement.
func (s *Service) FeatureRevision(ctx context.Context, l *layers.Layer, id int64, outputSRID int, includePersonal bool) (feature []byte, rev string, updatedAt time.Time, err error) {
	sql := "SELECT " + featureExpr(l, VisibleFields(l, includePersonal), outputSRID) +
		", t.xmin::text, v.updated_at FROM " + l.QualifiedTable() +
		" t LEFT JOIN villageplan.layer_version v ON v.layer = $2 WHERE t.id = $1"
	var upd *time.Time
	err = db.PoolFrom(ctx, s.pool).QueryRow(ctx, sql, id, l.ID).Scan(&feature, &rev, &upd)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, "", time.Time{}, ErrNotFound
	}
	if err != nil {
		return nil, "", time.Time{}, fmt.Errorf("layer %s feature %d: %w", l.ID, id, err)
	}
	if upd != nil {
		updatedAt = *upd
	}
	return feature, rev, updatedAt, nil
}
