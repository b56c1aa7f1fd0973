package editing

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"villageplan/internal/auth"
	"villageplan/internal/features"
	"villageplan/layers"
)

// lockChangeset locks changeset id and returns its author and state.
func lockChangeset(ctx context.Context, tx pgx.Tx, id int64) (author string, authorID *int64, state, message string, err error) {
	err = tx.QueryRow(ctx, `SELECT author, author_id, state, message FROM villageplan.changesets WHERE id = $1 FOR UPDATE`, id).
		Scan(&author, &authorID, &state, &message)
	if errors.Is(err, pgx.ErrNoRows) {
		err = errf(http.StatusNotFound, CodeNotFound, "没有变更集 %d", "no changeset %d", id)
	}
	return
}

// mayReview refuses a reviewer without a review role and the author.
func mayReview(p *auth.Principal, id int64, author string, authorID *int64) *Error {
	if !p.Has(auth.TownshipApprover) && !p.Has(auth.PlanningEditor) {
		return errf(http.StatusForbidden, CodeForbidden, "审核变更集须为乡镇审批或规划编辑角色", "reviewing a changeset needs the township_approver or planning_editor role")
	}
	if p.Username == author || (authorID != nil && *authorID != 0 && *authorID == p.UserID) {
		return errf(http.StatusForbidden, CodeForbidden, "变更集 %d 由您本人提交；须由另一人（乡镇审批或其他规划编辑）审核",
			"you are the author of changeset %d; another person (a township approver or another planning editor) must review it", id)
	}
	return nil
}

// Approve publishes proposed changeset id as the principal of ctx (a
// township_approver, or a planning_editor other than the author): its
// operations are applied in one transaction, recorded in the history as
// the author's edits with this changeset id, provided none of their
// features changed since the proposal (409 listing them otherwise; nothing
// changes) and the topology rules hold.
func (s *Service) Approve(ctx context.Context, id int64, comment string, r *http.Request) (*Result, error) {
	p, e := principal(ctx)
	if e != nil {
		return nil, e
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	author, authorID, state, _, err := lockChangeset(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	if state != Proposed {
		return nil, errf(http.StatusConflict, CodeConflict, "变更集 %d 的状态是 %s；只有待审核（proposed）的变更集可以批准", "changeset %d is %s; only proposed changesets can be approved", id, state)
	}
	if e := mayReview(p, id, author, authorID); e != nil {
		return nil, e
	}
	ops, err := s.loadOps(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	if err := begin(ctx, tx, author, id, s.catalog, ops); err != nil {
		return nil, err
	}
	var conflicts []Conflict
	for _, op := range ops {
		if op.kind == Create && !op.restore {
			op.geomChanged = true
			continue
		}
		cur, err := loadCurrent(ctx, tx, op.layer, op.id)
		if err != nil {
			return nil, err
		}
		switch {
		case op.restore && cur != nil:
			conflicts = append(conflicts, Conflict{Operation: op.idx, Layer: op.layer.ID, FeatureID: op.id})
		case op.restore:
			op.geomChanged = true
		case cur == nil || cur.rev != op.baseRev:
			conflicts = append(conflicts, Conflict{Operation: op.idx, Layer: op.layer.ID, FeatureID: op.id})
		default:
			op.oldEWKB = cur.ewkb
			op.geomChanged = hex.EncodeToString(cur.ewkb) != hex.EncodeToString(op.ewkb)
		}
	}
	if len(conflicts) > 0 {
		e := newErr(http.StatusConflict, CodeConflict,
			fmt.Sprintf("变更集 %d 提交后，其中 %d 个要素已被修改或删除（%s）；无法批准，请驳回并请作者在新版本上重新提交", id, len(conflicts), conflictList(conflicts)),
			fmt.Sprintf("%d feature(s) of changeset %d changed or were deleted after it was proposed (%s); it cannot be approved: reject it and ask the author to redo it on the new versions", len(conflicts), id, conflictList(conflicts)))
		e.Conflicts = conflicts
		return nil, e
	}
	if err := s.apply(ctx, tx, ops); err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, `UPDATE villageplan.changesets SET state = 'published', reviewer = $2, reviewer_id = $3,
		reviewed_at = clock_timestamp(), review_comment = nullif($4, ''), published_at = clock_timestamp() WHERE id = $1`,
		id, p.Username, p.UserID, comment); err != nil {
		return nil, err
	}
	res := &Result{ID: id, State: Published}
	for _, op := range ops {
		if _, err := tx.Exec(ctx, `UPDATE villageplan.changeset_changes SET feature_id = $3 WHERE changeset_id = $1 AND seq = $2`, id, op.idx, op.id); err != nil {
			return nil, err
		}
		w := Written{Operation: op.idx, Kind: op.kind, Layer: op.layer.ID, FeatureID: op.id}
		if op.kind != Delete {
			w.ETag = features.ETag(op.id, op.newRev)
		}
		res.Features = append(res.Features, w)
	}
	if err := audit(ctx, tx, r, "changeset.approve", id, ops, map[string]any{"author": author, "comment": comment}); err != nil {
		return nil, err
	}
	return res, tx.Commit(ctx)
}

func conflictList(cs []Conflict) string {
	var b []string
	for _, c := range cs {
		b = append(b, fmt.Sprintf("%s/%d", c.Layer, c.FeatureID))
	}
	return strings.Join(b, ", ")
}

// Reject marks proposed changeset id as rejected (same reviewers as
// Approve); nothing is applied.
func (s *Service) Reject(ctx context.Context, id int64, comment string, r *http.Request) (*Result, error) {
	p, e := principal(ctx)
	if e != nil {
		return nil, e
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	author, authorID, state, _, err := lockChangeset(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	if state != Proposed {
		return nil, errf(http.StatusConflict, CodeConflict, "变更集 %d 的状态是 %s；只有待审核（proposed）的变更集可以驳回", "changeset %d is %s; only proposed changesets can be rejected", id, state)
	}
	if e := mayReview(p, id, author, authorID); e != nil {
		return nil, e
	}
	ops, err := s.loadOps(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, `UPDATE villageplan.changesets SET state = 'rejected', reviewer = $2, reviewer_id = $3,
		reviewed_at = clock_timestamp(), review_comment = nullif($4, '') WHERE id = $1`, id, p.Username, p.UserID, comment); err != nil {
		return nil, err
	}
	if err := audit(ctx, tx, r, "changeset.reject", id, ops, map[string]any{"author": author, "comment": comment}); err != nil {
		return nil, err
	}
	res := &Result{ID: id, State: Rejected}
	for _, op := range ops {
		res.Features = append(res.Features, Written{Operation: op.idx, Kind: op.kind, Layer: op.layer.ID, FeatureID: op.id})
	}
	return res, tx.Commit(ctx)
}

// loadOps reads the stored operations of a changeset.
func (s *Service) loadOps(ctx context.Context, tx pgx.Tx, id int64) ([]*prepOp, error) {
	rows, err := tx.Query(ctx, `SELECT seq, layer, feature_id, kind, base_rev, properties, ST_AsEWKB(geom)
		FROM villageplan.changeset_changes WHERE changeset_id = $1 ORDER BY seq`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ops []*prepOp
	for rows.Next() {
		var (
			seq         int
			layer, kind string
			fid         *int64
			base        *string
			props       []byte
			ewkb        []byte
		)
		if err := rows.Scan(&seq, &layer, &fid, &kind, &base, &props, &ewkb); err != nil {
			return nil, err
		}
		l, ok := s.catalog.Layer(layer)
		if !ok {
			return nil, errf(http.StatusConflict, CodeConflict, "变更集 %d 修改的图层 %s 已不在图层目录中", "changeset %d changes layer %s, which is no longer in the catalog", id, layer)
		}
		op := &prepOp{idx: seq, kind: Kind(kind), layer: l, ewkb: ewkb}
		if fid != nil {
			op.id = *fid
			op.restore = op.kind == Create
		}
		if base != nil {
			op.baseRev = *base
		}
		if op.props, err = storedProps(l, props); err != nil {
			return nil, err
		}
		ops = append(ops, op)
	}
	return ops, rows.Err()
}

// storedProps reads the fields of l from a stored jsonb object.
func storedProps(l *layers.Layer, raw []byte) (map[string]any, error) {
	out := map[string]any{}
	if len(raw) == 0 {
		return out, nil
	}
	m, err := decodeObject(raw)
	if err != nil {
		return nil, err
	}
	for _, f := range l.Fields {
		v, err := checkValueLoose(f, m[f.Name])
		if err != nil {
			return nil, err
		}
		out[f.Name] = v
	}
	return out, nil
}

// Revert undoes published changeset id with a new changeset (message
// "" gives "撤销变更集 N / Revert changeset N"): features it created are
// deleted, features it deleted are restored with their ids, features it
// changed get their earlier state back. If any of them was edited after
// it (through the service, an import, QGIS or psql), nothing changes and
// a 409 lists them with who edited them when. The revert is itself
// validated, topology-checked and, where the catalog asks for review,
// proposed.
func (s *Service) Revert(ctx context.Context, id int64, message string, r *http.Request) (*Result, error) {
	p, e := principal(ctx)
	if e != nil {
		return nil, e
	}
	if strings.TrimSpace(message) == "" {
		message = fmt.Sprintf("撤销变更集 %d / Revert changeset %d", id, id)
	}
	if e := checkMessage(message); e != nil {
		return nil, e
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	_, _, state, _, err := lockChangeset(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	if state != Published {
		return nil, errf(http.StatusConflict, CodeConflict, "变更集 %d 的状态是 %s，没有可撤销的修改", "changeset %d is %s: it changed nothing to revert", id, state)
	}
	var by int64
	if err := tx.QueryRow(ctx, `SELECT coalesce(min(id), 0) FROM villageplan.changesets WHERE reverts = $1 AND state IN ('published', 'proposed')`, id).Scan(&by); err != nil {
		return nil, err
	}
	if by > 0 {
		return nil, errf(http.StatusConflict, CodeConflict, "变更集 %d 已由变更集 %d 撤销（或正待审核）", "changeset %d is already reverted (or proposed to be) by changeset %d", id, by)
	}
	type touched struct {
		layer        string
		fid, last    int64
		first, final string
		before       []byte
	}
	rows, err := tx.Query(ctx, `SELECT layer, feature_id, max(id), (array_agg(action ORDER BY id))[1], (array_agg(action ORDER BY id DESC))[1],
		(array_agg(before ORDER BY id))[1] FROM villageplan.edit_history WHERE changeset_id = $1 GROUP BY layer, feature_id ORDER BY min(id)`, id)
	if err != nil {
		return nil, err
	}
	var ts []touched
	for rows.Next() {
		var t touched
		if err := rows.Scan(&t.layer, &t.fid, &t.last, &t.first, &t.final, &t.before); err != nil {
			rows.Close()
			return nil, err
		}
		ts = append(ts, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var probe []*prepOp
	for _, t := range ts {
		if l, ok := s.catalog.Layer(t.layer); ok {
			probe = append(probe, &prepOp{layer: l})
		}
	}
	if err := begin(ctx, tx, p.Username, 0, s.catalog, probe); err != nil {
		return nil, err
	}
	// Later edits of the same features stop the revert.
	var conflicts []Conflict
	for _, t := range ts {
		var later int64
		var actor string
		var at time.Time
		err := tx.QueryRow(ctx, `SELECT id, actor, at FROM villageplan.feature_edits($1, $2) WHERE id > $3 ORDER BY id LIMIT 1`, t.layer, t.fid, t.last).Scan(&later, &actor, &at)
		if errors.Is(err, pgx.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, err
		}
		c := Conflict{Layer: t.layer, FeatureID: t.fid, Actor: actor, At: at.UTC().Format(time.RFC3339)}
		var cs *int64
		_ = tx.QueryRow(ctx, `SELECT changeset_id FROM villageplan.edit_history WHERE id = $1`, later).Scan(&cs)
		if cs != nil {
			c.ChangesetID = *cs
		}
		conflicts = append(conflicts, c)
	}
	if len(conflicts) > 0 {
		var zh, en []string
		for _, c := range conflicts {
			who := c.Actor + " " + c.At
			if c.ChangesetID > 0 {
				who += fmt.Sprintf(", changeset %d", c.ChangesetID)
			}
			zh = append(zh, fmt.Sprintf("%s/%d（%s）", c.Layer, c.FeatureID, who))
			en = append(en, fmt.Sprintf("%s/%d (%s)", c.Layer, c.FeatureID, who))
		}
		e := newErr(http.StatusConflict, CodeConflict,
			fmt.Sprintf("无法撤销变更集 %d：之后又有修改涉及其中的要素 %s；未作任何更改。请先撤销或处理这些后续修改", id, strings.Join(zh, "、")),
			fmt.Sprintf("changeset %d cannot be reverted: later edits touched its features %s; nothing was changed. Revert or settle those edits first", id, strings.Join(en, ", ")))
		e.Conflicts = conflicts
		return nil, e
	}
	var ops []*prepOp
	for _, t := range ts {
		l, ok := s.catalog.Layer(t.layer)
		if !ok {
			return nil, errf(http.StatusConflict, CodeConflict, "图层 %s 已不在图层目录中，无法撤销", "layer %s is no longer in the catalog; cannot revert", t.layer)
		}
		op := &prepOp{idx: len(ops) + 1, layer: l, id: t.fid}
		var before map[string]any
		if t.first != "insert" {
			m := map[string]any{}
			if err := json.Unmarshal(t.before, &m); err != nil {
				return nil, err
			}
			hexGeom, _ := m["geom"].(string)
			if op.ewkb, err = hex.DecodeString(hexGeom); err != nil {
				return nil, fmt.Errorf("changeset %d: stored geometry of %s/%d: %w", id, t.layer, t.fid, err)
			}
			if before, err = storedProps(l, t.before); err != nil {
				return nil, err
			}
		}
		cur, err := loadCurrent(ctx, tx, l, t.fid)
		if err != nil {
			return nil, err
		}
		var curProps map[string]any
		switch {
		case t.first == "insert" && t.final == "delete":
			continue // created and deleted by the changeset: nothing to undo
		case t.first == "insert":
			if cur == nil {
				continue
			}
			op.kind, op.props, op.ewkb, op.baseRev, curProps = Delete, cur.props, cur.ewkb, cur.rev, cur.props
		case t.final == "delete":
			op.kind, op.restore, op.props, op.geomChanged = Create, true, before, true
		default:
			if cur == nil {
				continue
			}
			op.kind, op.props, op.baseRev, op.oldEWKB, curProps = Replace, before, cur.rev, cur.ewkb, cur.props
			op.geomChanged = hex.EncodeToString(cur.ewkb) != hex.EncodeToString(op.ewkb)
		}
		if e := mayEdit(p, op, curProps); e != nil {
			return nil, e
		}
		op.review = reviewReason(op, curProps)
		ops = append(ops, op)
	}
	if len(ops) == 0 {
		return nil, errf(http.StatusConflict, CodeConflict, "变更集 %d 没有需要撤销的修改", "changeset %d left nothing to revert", id)
	}
	res, err := s.commitOps(ctx, tx, p, p.Username, p.UserID, message, ops, id, r)
	if err != nil {
		return nil, err
	}
	return res, tx.Commit(ctx)
}
