// Package editing is the one write path of the catalog layers: changesets
// of create / replace / patch / delete operations over one or several
// layers, validated from the layer catalog, checked against the topology
// rules the catalog declares, applied in one transaction (all land or
// none), reviewed by a second person where the catalog asks for it, and
// revertible. The OGC API – Features Part 4 routes and /changesets of
// internal/httpapi call it; imports and applications are to write through
// it too. Readers (features, tiles, the map) never call it.
//
// History: each transaction sets villageplan.actor (the author's
// username), villageplan.history = 'row' and villageplan.changeset (the
// changeset id), so the edit_history triggers (migrations 1, 3, 6, 12)
// record every feature's before and after with the changeset id, and bump
// layer_version, which invalidates tiles, ETags and cached extents at
// once. Edits through psql or QGIS are recorded by the same triggers with
// the database role (or villageplan.actor) as actor.
//
// Concurrency: a feature's ETag names its revision (features.ETag, the
// row's xmin). Replace, patch and delete name the revision they were made
// against (If-Match); the feature is locked (SELECT … FOR UPDATE) and a
// different revision is refused (412) before anything is written. Edits of
// layers with topology rules also take a transaction-scoped advisory lock
// per layer involved, so two concurrent edits cannot both pass an overlap
// check against each other.
//
// Review: a changeset that touches a change the catalog marks for review
// (layers.Editing.Review: 永久基本农田, 生态保护红线, 村庄建设边界) is validated
// and stored as proposed, not applied. Approve or reject it: a
// township_approver (乡镇审批), or a planning_editor (规划编辑) other than
// the author; the author never reviews their own changeset. Approval
// applies the stored operations only if none of their features changed
// since the proposal (409 otherwise, nothing applied).
package editing

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"villageplan/internal/auth"
	"villageplan/internal/features"
	"villageplan/layers"
)

// Kind is the kind of an operation.
type Kind string

// Operation kinds (OGC API – Features Part 4: POST, PUT, PATCH, DELETE).
const (
	Create  Kind = "create"
	Replace Kind = "replace"
	Patch   Kind = "patch"
	Delete  Kind = "delete"
)

// Changeset states.
const (
	Published = "published"
	Proposed  = "proposed"
	Rejected  = "rejected"
)

// Limits of a changeset.
const (
	MaxOperations   = 1000
	MaxMessageBytes = 2000
)

// Operation is one change of a changeset.
type Operation struct {
	Kind Kind `json:"op"`
	// Layer is the collection (layer) id.
	Layer string `json:"collection"`
	// FeatureID names the feature of a replace, patch or delete.
	FeatureID int64 `json:"feature_id,omitempty"`
	// IfMatch is the feature's ETag as read (features.ETag); required for
	// replace, patch and delete.
	IfMatch string `json:"if_match,omitempty"`
	// Feature is a GeoJSON Feature (create, replace: every property not
	// given is NULL, except personal ones, which are kept) or a JSON Merge
	// Patch of one (patch, RFC 7396: "properties" members are merged, null
	// removes a value; "geometry", when given, replaces the geometry).
	Feature json.RawMessage `json:"feature,omitempty"`
	// CRS of the geometry: an OGC URI or EPSG:N ("" = CRS84), positions
	// in that CRS's axis order.
	CRS string `json:"crs,omitempty"`
}

// Changeset is a set of operations applied together with one message.
type Changeset struct {
	Message    string      `json:"message"`
	Operations []Operation `json:"operations"`
}

// Written is a feature a changeset wrote (or will write, when proposed).
type Written struct {
	Operation int    `json:"operation"`
	Kind      Kind   `json:"op"`
	Layer     string `json:"collection"`
	FeatureID int64  `json:"feature_id,omitempty"`
	// ETag is the feature's new ETag ("" for a delete or a proposal).
	ETag string `json:"etag,omitempty"`
}

// Result is the outcome of a submitted, approved or reverted changeset.
type Result struct {
	ID           int64     `json:"id"`
	State        string    `json:"state"`
	ReviewReason string    `json:"review_reason,omitempty"`
	Features     []Written `json:"features"`
}

// Service applies changesets on a pool for the layers of a catalog.
type Service struct {
	pool    *pgxpool.Pool
	catalog *layers.Catalog
}

// New returns the editing service.
func New(pool *pgxpool.Pool, catalog *layers.Catalog) *Service {
	return &Service{pool: pool, catalog: catalog}
}

// EditRoles are the roles that may edit layer l: planning_editor and the
// roles its catalog entry names.
func EditRoles(l *layers.Layer) []auth.Role {
	rs := []auth.Role{auth.PlanningEditor}
	for _, r := range l.Editing.Roles {
		if !slices.Contains(rs, auth.Role(r)) {
			rs = append(rs, auth.Role(r))
		}
	}
	return rs
}

// ReviewRoles may approve or reject a proposed changeset (never its
// author).
var ReviewRoles = []auth.Role{auth.TownshipApprover, auth.PlanningEditor}

// prepOp is an operation validated and ready to apply.
type prepOp struct {
	idx     int
	kind    Kind
	layer   *layers.Layer
	id      int64 // the feature (0: create a new one)
	restore bool  // a create with id (revert of a delete)
	baseRev string
	// props holds every field of the layer after the change (create,
	// replace, patch) or before it (delete).
	props map[string]any
	// ewkb is the geometry after the change in EPSG:4490 (before it for
	// a delete); oldEWKB the stored one before it.
	ewkb, oldEWKB []byte
	geomChanged   bool
	personal      bool // writes a personal field
	review        string
	newRev        string
}

func (op *prepOp) village(props map[string]any) string {
	for _, f := range op.layer.Fields {
		if f.AdminCode {
			if s, ok := props[f.Name].(string); ok {
				return s
			}
			return ""
		}
	}
	return ""
}

// principal returns the acting principal or a 403.
func principal(ctx context.Context) (*auth.Principal, *Error) {
	p := auth.FromContext(ctx)
	if p == nil {
		return nil, errf(http.StatusForbidden, CodeForbidden, "编辑图层须先登录", "editing layers needs a signed-in user")
	}
	return p, nil
}

// Submit validates and applies (or, where the catalog asks for review,
// proposes) a changeset as the principal of ctx, in one transaction; r is
// the HTTP request for the audit log (nil from the CLI). Errors are
// *Error (4xx, nothing written) or database failures.
func (s *Service) Submit(ctx context.Context, cs Changeset, r *http.Request) (*Result, error) {
	p, ops, err := s.parse(ctx, cs)
	if err != nil {
		return nil, err
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	res, err := s.submitIn(ctx, tx, p, cs, ops, r)
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, err
	}
	return res, nil
}

// SubmitTx is Submit inside the caller's transaction tx (an application
// transition that writes the homesteads layer together with its own
// rows): the changeset lands when tx commits, or not at all. It runs in a
// savepoint: when it returns an error nothing of the changeset remains and
// tx is still usable. The session settings it makes (actor, history mode)
// stay for the rest of tx; the changeset id is cleared again, so later
// layer writes of the caller are not attributed to this changeset.
func (s *Service) SubmitTx(ctx context.Context, tx pgx.Tx, cs Changeset, r *http.Request) (*Result, error) {
	p, ops, err := s.parse(ctx, cs)
	if err != nil {
		return nil, err
	}
	sp, err := tx.Begin(ctx)
	if err != nil {
		return nil, err
	}
	res, err := s.submitIn(ctx, sp, p, cs, ops, r)
	if err == nil {
		_, err = sp.Exec(ctx, `SELECT set_config('villageplan.changeset', '', true)`)
	}
	if err != nil {
		_ = sp.Rollback(context.WithoutCancel(ctx))
		return nil, err
	}
	return res, sp.Commit(ctx)
}

// parse checks the principal, the message and each operation without the
// database.
func (s *Service) parse(ctx context.Context, cs Changeset) (*auth.Principal, []*prepOp, error) {
	p, e := principal(ctx)
	if e != nil {
		return nil, nil, e
	}
	if e := checkMessage(cs.Message); e != nil {
		return nil, nil, e
	}
	if len(cs.Operations) == 0 || len(cs.Operations) > MaxOperations {
		return nil, nil, errf(http.StatusUnprocessableEntity, CodeInvalid, "变更集须有 1 至 %d 项操作，收到 %d 项",
			"a changeset holds 1 to %d operations, got %d", MaxOperations, len(cs.Operations))
	}
	ops := make([]*prepOp, len(cs.Operations))
	seen := map[string]int{}
	for i, o := range cs.Operations {
		op, e := s.parseOp(i+1, o)
		if e != nil {
			return nil, nil, e
		}
		if op.id > 0 {
			k := op.layer.ID + "/" + strconv.FormatInt(op.id, 10)
			if j, dup := seen[k]; dup {
				return nil, nil, errf(http.StatusUnprocessableEntity, CodeInvalid, "要素 %s 在第 %d 项和第 %d 项操作中都出现；一个变更集对每个要素只做一项操作，请合并",
					"feature %s appears in operations %d and %d; a changeset changes each feature once, merge them", k, j, i+1).at(op)
			}
			seen[k] = i + 1
		}
		ops[i] = op
	}
	return p, ops, nil
}

// submitIn validates the parsed operations against the database in tx and
// applies or proposes them; it neither commits nor rolls back.
func (s *Service) submitIn(ctx context.Context, tx pgx.Tx, p *auth.Principal, cs Changeset, ops []*prepOp, r *http.Request) (*Result, error) {
	if err := begin(ctx, tx, p.Username, 0, s.catalog, ops); err != nil {
		return nil, err
	}
	for i, o := range cs.Operations {
		if err := s.prepare(ctx, tx, p, ops[i], o); err != nil {
			return nil, err
		}
	}
	return s.commitOps(ctx, tx, p, p.Username, p.UserID, cs.Message, ops, 0, r)
}

func checkMessage(m string) *Error {
	if strings.TrimSpace(m) == "" {
		return errf(http.StatusUnprocessableEntity, CodeInvalid, "变更集须有说明（message）：写明改了什么、为什么", "a changeset needs a message: say what changed and why").field("message")
	}
	if len(m) > MaxMessageBytes || strings.IndexByte(m, 0) >= 0 || !validUTF8(m) {
		return errf(http.StatusUnprocessableEntity, CodeInvalid, "说明（message）须为不超过 %d 字节的 UTF-8 文本，不含 NUL",
			"the message must be UTF-8 text of at most %d bytes without NUL", MaxMessageBytes).field("message")
	}
	return nil
}

// parseOp checks what can be checked without the database.
func (s *Service) parseOp(idx int, o Operation) (*prepOp, *Error) {
	l, ok := s.catalog.Layer(o.Layer)
	if !ok {
		return nil, errf(http.StatusNotFound, CodeNotFound, "第 %d 项操作：没有图层 %q；GET /collections 列出全部图层",
			"operation %d: no collection %q; GET /collections lists them", idx, o.Layer)
	}
	op := &prepOp{idx: idx, kind: o.Kind, layer: l, id: o.FeatureID}
	switch o.Kind {
	case Create:
		if o.FeatureID != 0 {
			return nil, errf(http.StatusUnprocessableEntity, CodeInvalid, "新建要素不能指定 feature_id，编号由数据库分配",
				"a create takes no feature_id; the database assigns it").at(op)
		}
	case Replace, Patch, Delete:
		if o.FeatureID < 1 {
			return nil, errf(http.StatusUnprocessableEntity, CodeInvalid, "%s 须指定要修改的要素 feature_id", "a %s needs the feature_id it changes", o.Kind).at(op)
		}
		if strings.TrimSpace(o.IfMatch) == "" {
			e := errf(http.StatusPreconditionRequired, CodePreconditionReq,
				"缺少 If-Match：请先读取要素（GET /collections/%s/items/%d），把其 ETag 作为 If-Match 提交，以免覆盖他人的修改",
				"If-Match is missing: read the feature first (GET /collections/%s/items/%d) and send its ETag as If-Match, so that nobody's change is overwritten",
				l.ID, o.FeatureID)
			return nil, e.at(op)
		}
		id, rev, ok := features.ParseETag(o.IfMatch)
		if !ok || id != o.FeatureID {
			e := errf(http.StatusPreconditionFailed, CodePreconditionFail,
				"If-Match %s 不是要素 %d 的 ETag；请重新读取要素并使用其 ETag", "If-Match %s is not an ETag of feature %d; read the feature again and use its ETag",
				o.IfMatch, o.FeatureID)
			return nil, e.at(op)
		}
		op.baseRev = rev
	default:
		return nil, errf(http.StatusUnprocessableEntity, CodeInvalid, "第 %d 项操作：op 须为 create、replace、patch 或 delete，收到 %q",
			"operation %d: op must be create, replace, patch or delete, got %q", idx, o.Kind).field("op")
	}
	return op, nil
}

// current is a feature's stored state.
type current struct {
	props map[string]any
	ewkb  []byte
	rev   string
}

// loadCurrent locks and reads feature id of l.
func loadCurrent(ctx context.Context, tx pgx.Tx, l *layers.Layer, id int64) (*current, error) {
	var raw []byte
	c := &current{}
	err := tx.QueryRow(ctx, `SELECT to_jsonb(t) - 'id' - 'geom' - 'geom_3857', ST_AsEWKB(t.geom), t.xmin::text FROM `+
		l.QualifiedTable()+` t WHERE t.id = $1 FOR UPDATE`, id).Scan(&raw, &c.ewkb, &c.rev)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	m, err := decodeObject(raw)
	if err != nil {
		return nil, err
	}
	c.props = map[string]any{}
	for _, f := range l.Fields {
		v, e := checkValueLoose(f, m[f.Name])
		if e != nil {
			return nil, e
		}
		c.props[f.Name] = v
	}
	return c, nil
}

// checkValueLoose converts a stored value (jsonb) to the normalised form
// of checkValue without judging it (stored rows may predate a rule).
func checkValueLoose(f layers.Field, v any) (any, error) {
	switch t := v.(type) {
	case nil:
		return nil, nil
	case json.Number:
		if f.Type == layers.Integer {
			return t.Int64()
		}
		return t.Float64()
	}
	return v, nil
}

// prepare validates op against the database state (inside tx, feature
// locked) and the principal's rights.
func (s *Service) prepare(ctx context.Context, tx pgx.Tx, p *auth.Principal, op *prepOp, o Operation) error {
	l := op.layer
	var cur *current
	if op.kind != Create {
		var err error
		if cur, err = loadCurrent(ctx, tx, l, op.id); err != nil {
			return err
		}
		if cur == nil {
			return errf(http.StatusNotFound, CodeNotFound, "要素不存在（可能已被删除）", "the feature does not exist (it may have been deleted)").at(op)
		}
		if cur.rev != op.baseRev {
			e := errf(http.StatusPreconditionFailed, CodePreconditionFail,
				"要素在您读取之后已被修改（If-Match %s，现为 %s）；请重新读取要素，在新版本上重做修改后再提交",
				"the feature changed since you read it (If-Match %s, now %s); read it again, redo your change on the new version and send it again",
				o.IfMatch, features.ETag(op.id, cur.rev))
			e.CurrentETag = features.ETag(op.id, cur.rev)
			return e.at(op)
		}
		op.oldEWKB = cur.ewkb
	}
	mayPersonal := func(props map[string]any) bool { return p.MayReadPersonal(op.village(props)) }
	switch op.kind {
	case Delete:
		op.props = cur.props
		op.ewkb = cur.ewkb
	case Create, Replace:
		var doc featureDoc
		if err := json.Unmarshal(o.Feature, &doc); err != nil || doc.Type != "Feature" {
			return errf(http.StatusBadRequest, CodeBadRequest, "请求体须为 GeoJSON Feature（\"type\": \"Feature\"）", "the body must be a GeoJSON Feature (\"type\": \"Feature\")").at(op)
		}
		props := map[string]any{}
		if len(doc.Properties) > 0 && string(doc.Properties) != "null" {
			m, err := decodeObject(doc.Properties)
			if err != nil {
				return errf(http.StatusBadRequest, CodeBadRequest, "properties 须为 JSON 对象", "properties must be a JSON object").at(op)
			}
			props = m
		}
		norm, e := checkProperties(l, props)
		if e != nil {
			return e.at(op)
		}
		full := map[string]any{}
		for _, f := range l.Fields {
			_, given := norm[f.Name]
			switch {
			case f.Personal && !given && cur != nil:
				full[f.Name] = cur.props[f.Name] // kept: the reader never saw it
			case f.Personal && given:
				op.personal = true
				full[f.Name] = norm[f.Name]
			default:
				full[f.Name] = norm[f.Name]
			}
		}
		if e := checkRequired(l, full); e != nil {
			return e.at(op)
		}
		op.props = full
		c, e := parseCRS(o.CRS)
		if e != nil {
			return e.at(op)
		}
		g, e := parseGeometry(l, doc.Geometry, c)
		if e != nil {
			return e.at(op)
		}
		if err := s.normalise(ctx, tx, op, g); err != nil {
			return err
		}
	case Patch:
		patch, err := decodeObject(o.Feature)
		if err != nil {
			return errf(http.StatusBadRequest, CodeBadRequest, "请求体须为 JSON Merge Patch 对象（RFC 7396）", "the body must be a JSON Merge Patch object (RFC 7396)").at(op)
		}
		for k := range patch {
			if k != "type" && k != "properties" && k != "geometry" && k != "id" {
				return errf(http.StatusUnprocessableEntity, CodeInvalid, "补丁只能修改 properties 和 geometry，收到 %q", "a patch changes properties and geometry only, got %q", k).field(k).at(op)
			}
		}
		full := map[string]any{}
		for k, v := range cur.props {
			full[k] = v
		}
		if pp, ok := patch["properties"]; ok && pp == nil {
			// RFC 7396: null removes the member: every property.
			for _, f := range l.Fields {
				if f.Personal && full[f.Name] != nil {
					op.personal = true
				}
				full[f.Name] = nil
			}
		} else if ok {
			pm, ok := pp.(map[string]any)
			if !ok {
				return errf(http.StatusUnprocessableEntity, CodeInvalid, "补丁的 properties 须为对象", "the patch's properties must be an object").field("properties").at(op)
			}
			norm, e := checkProperties(l, withoutNulls(pm))
			if e != nil {
				return e.at(op)
			}
			// Merge: a null member removes (sets NULL), others replace.
			for k, v := range pm {
				if f, _ := l.Field(k); f.Personal {
					op.personal = true
				}
				if v == nil {
					full[k] = nil
				} else {
					full[k] = norm[k]
				}
			}
		}
		if e := checkRequired(l, full); e != nil {
			return e.at(op)
		}
		op.props = full
		op.ewkb = nil
		if gv, ok := patch["geometry"]; ok {
			if gv == nil {
				return errf(http.StatusUnprocessableEntity, CodeInvalid, "几何图形不能删除（geometry: null）；请删除整个要素", "the geometry cannot be removed (geometry: null); delete the feature instead").field("geometry").at(op)
			}
			raw, _ := json.Marshal(gv)
			c, e := parseCRS(o.CRS)
			if e != nil {
				return e.at(op)
			}
			g, e := parseGeometry(l, raw, c)
			if e != nil {
				return e.at(op)
			}
			if err := s.normalise(ctx, tx, op, g); err != nil {
				return err
			}
		}
	}
	if op.personal && !mayPersonal(op.props) {
		return errf(http.StatusForbidden, CodeForbidden, "您无权写入个人信息字段（户主姓名、身份证号等）；需要个人信息查阅权限",
			"you may not write personal fields (holder name, ID number …); that needs the personal-data grant").at(op)
	}
	// Rights: the roles of the layer, for the village before and after.
	var curProps map[string]any
	if cur != nil {
		curProps = cur.props
	}
	if e := mayEdit(p, op, curProps); e != nil && !delegated(ctx, op, curProps) {
		return e
	}
	var before map[string]any
	if cur != nil {
		before = cur.props
	}
	op.review = reviewReason(op, before)
	return nil
}

// reviewReason says why op needs review ("" when it does not); before is
// the feature's stored state (nil for a create).
func reviewReason(op *prepOp, before map[string]any) string {
	rv := op.layer.Editing.Review
	if rv == nil {
		return ""
	}
	b, a := "", ""
	if before != nil {
		b, _ = before[rv.Field].(string)
	}
	if op.kind != Delete {
		a, _ = op.props[rv.Field].(string)
	}
	if !rv.Applies(b, a) {
		return ""
	}
	return fmt.Sprintf("%s（%s）：%s / %s", op.layer.ID, op.layer.TitleZH, rv.ZH, rv.EN)
}

// Delegation lets a principal write features of one layer in one village
// although it holds none of the layer's edit roles there: the caller has
// authorised the write itself (an application's 登记 by the 乡镇窗口,
// allowed by the application's state machine, writes the homesteads
// layer). Everything else applies unchanged: field and geometry
// validation, the personal-data right, topology, review, history and
// audit; the changeset records the principal's own roles.
type Delegation struct {
	Layer   string
	Village string
}

type delegationKey struct{}

// WithDelegation returns ctx carrying d for Submit and SubmitTx.
func WithDelegation(ctx context.Context, d Delegation) context.Context {
	return context.WithValue(ctx, delegationKey{}, d)
}

// delegated reports whether ctx's delegation covers op for the village of
// the feature before (nil for a create) and after.
func delegated(ctx context.Context, op *prepOp, before map[string]any) bool {
	d, ok := ctx.Value(delegationKey{}).(Delegation)
	if !ok || d.Layer != op.layer.ID || d.Village == "" {
		return false
	}
	if op.village(op.props) != d.Village {
		return false
	}
	return before == nil || op.village(before) == d.Village
}

// mayEdit checks the principal's rights on op for the villages of the
// feature before (nil for a create) and after.
func mayEdit(p *auth.Principal, op *prepOp, before map[string]any) *Error {
	l := op.layer
	roles := EditRoles(l)
	villages := []string{op.village(op.props)}
	if before != nil {
		villages = append(villages, op.village(before))
	}
	for _, v := range villages {
		if !p.HasAnyFor(roles, v) {
			scope, scopeEN := "全乡", "the township"
			if v != "" {
				scope, scopeEN = "村 "+v, "village "+v
			}
			return newErr(http.StatusForbidden, CodeForbidden, fmt.Sprintf("您无权编辑图层 %s 在%s的要素（需要角色：%s）", l.ID, scope, roleNames(roles)),
				fmt.Sprintf("you may not edit layer %s features of %s (needs role: %s)", l.ID, scopeEN, roleNames(roles))).at(op)
		}
	}
	return nil
}

func roleNames(rs []auth.Role) string {
	var b []string
	for _, r := range rs {
		b = append(b, r.Label()+" "+string(r))
	}
	return strings.Join(b, ", ")
}

func withoutNulls(m map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		if v != nil {
			out[k] = v
		}
	}
	return out
}

func validUTF8(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }

// normalise turns an input geometry into the stored form (EPSG:4490, the
// layer's Multi type) in PostGIS and checks it: not empty, valid (with
// the location of the problem from ST_IsValidDetail), inside the CGCS2000
// domain.
func (s *Service) normalise(ctx context.Context, tx pgx.Tx, op *prepOp, g *inputGeometry) error {
	multi := "ST_Multi(g)"
	if op.layer.Geometry == layers.Point {
		multi = "g"
	}
	var (
		ewkb           []byte
		empty, valid   bool
		inDomain       bool
		reason         *string
		lon, lat, x, y *float64
	)
	err := tx.QueryRow(ctx, `WITH i AS (SELECT ST_GeomFromWKB($1, $2::int) AS g0),
		s AS (SELECT g0, CASE WHEN $3 THEN ST_SetSRID(g0, 4490) ELSE ST_Transform(g0, 4490) END AS g FROM i)
		SELECT ST_AsEWKB(`+multi+`), ST_IsEmpty(g), ST_IsValid(g), g @ ST_MakeEnvelope(-180, -90, 180, 90, 4490),
		       d.reason, ST_X(d.location), ST_Y(d.location),
		       ST_X(CASE WHEN $3 THEN ST_SetSRID(d.location, $2::int) ELSE ST_Transform(d.location, $2::int) END),
		       ST_Y(CASE WHEN $3 THEN ST_SetSRID(d.location, $2::int) ELSE ST_Transform(d.location, $2::int) END)
		FROM s LEFT JOIN LATERAL (SELECT * FROM ST_IsValidDetail(s.g) WHERE NOT ST_IsValid(s.g)) d ON true`,
		g.wkb, g.srid, g.sameDatum).Scan(&ewkb, &empty, &valid, &inDomain, &reason, &lon, &lat, &x, &y)
	if err != nil {
		var pg *pgconn.PgError
		if errors.As(err, &pg) && (strings.HasPrefix(pg.Code, "XX") || strings.HasPrefix(pg.Code, "22")) {
			return errf(http.StatusUnprocessableEntity, CodeInvalid, "几何图形无法转换到 CGCS2000（%s）：%s；请检查坐标系（Content-Crs）",
				"the geometry cannot be converted to CGCS2000 (%s): %s; check the CRS (Content-Crs)", g.crs, pg.Message).field("geometry").at(op)
		}
		return err
	}
	switch {
	case empty:
		return errf(http.StatusUnprocessableEntity, CodeInvalid, "几何图形为空", "the geometry is empty").field("geometry").at(op)
	case !inDomain:
		return errf(http.StatusUnprocessableEntity, CodeInvalid, "坐标不在 CGCS2000 经纬度范围内（是否用错了坐标系或坐标顺序？）",
			"the coordinates are outside the CGCS2000 longitude/latitude domain (wrong CRS or axis order?)").field("geometry").at(op)
	case !valid:
		why := "invalid"
		if reason != nil {
			why = *reason
		}
		where, whereEN := "", ""
		if lon != nil && lat != nil {
			where = fmt.Sprintf("，位置：经度 %.7f、纬度 %.7f", *lon, *lat)
			whereEN = fmt.Sprintf(" at longitude %.7f, latitude %.7f", *lon, *lat)
			if x != nil && y != nil && !g.crs.CRS84 && g.crs.EPSG != 4490 && g.crs.EPSG != 4326 {
				where += fmt.Sprintf("（%s：东 %.3f、北 %.3f）", g.crs, *x, *y)
				whereEN += fmt.Sprintf(" (%s: easting %.3f, northing %.3f)", g.crs, *x, *y)
			}
		}
		e := newErr(http.StatusUnprocessableEntity, CodeInvalid, fmt.Sprintf("几何图形无效（%s）%s；请修正该处（如自相交的边、重复的点）后重新提交", why, where),
			fmt.Sprintf("the geometry is not valid (%s)%s; fix it there (e.g. a self-intersecting edge, a repeated point) and send it again", why, whereEN))
		e.Lon, e.Lat = lon, lat
		if !g.crs.CRS84 {
			e.X, e.Y = x, y
		}
		return e.field("geometry").at(op)
	}
	op.ewkb = ewkb
	op.geomChanged = op.oldEWKB == nil || hex.EncodeToString(op.oldEWKB) != hex.EncodeToString(ewkb)
	return nil
}

// begin prepares the transaction in one statement: the triggers record
// its edits per feature (villageplan.history = 'row') with the actor and
// (when not 0) the changeset, and it takes the advisory locks of the
// layers whose topology the operations touch (see topologyLayers), in
// sorted order so that two editors never deadlock.
func begin(ctx context.Context, tx pgx.Tx, actor string, changeset int64, cat *layers.Catalog, ops []*prepOp) error {
	cs := ""
	if changeset > 0 {
		cs = strconv.FormatInt(changeset, 10)
	}
	_, err := tx.Exec(ctx, `SELECT set_config('villageplan.actor', $1, true), set_config('villageplan.history', 'row', true),
		set_config('villageplan.batch_id', '', true), set_config('villageplan.changeset', $2, true),
		set_config('villageplan.topology', 'off', true),
		(SELECT string_agg(pg_advisory_xact_lock(hashtext('villageplan.edit.' || x))::text, ',')
		   FROM (SELECT x FROM unnest($3::text[]) x ORDER BY x) s)`, actor, cs, topologyLayers(cat, ops))
	return err
}

// topologyLayers are the layers whose topology the operations touch: the
// written layers with rules, the layers those rules compare with, and the
// layers whose rules compare with a written layer.
func topologyLayers(cat *layers.Catalog, ops []*prepOp) []string {
	set := map[string]bool{}
	for _, op := range ops {
		for _, t := range op.layer.Editing.Topology {
			set[op.layer.ID], set[t.Other] = true, true
		}
		for _, l := range cat.Layers() {
			for _, t := range l.Editing.Topology {
				if t.Other == op.layer.ID {
					set[l.ID], set[t.Other] = true, true
				}
			}
		}
	}
	ids := make([]string, 0, len(set))
	for id := range set {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// commitOps stores the changeset and either applies the operations
// (published) or stores them for review (proposed), then audits. It does
// not commit tx.
func (s *Service) commitOps(ctx context.Context, tx pgx.Tx, p *auth.Principal, author string, authorID int64, message string, ops []*prepOp, reverts int64, r *http.Request) (*Result, error) {
	var reasons []string
	for _, op := range ops {
		if op.review != "" && !slices.Contains(reasons, op.review) {
			reasons = append(reasons, op.review)
		}
	}
	state := Published
	if len(reasons) > 0 {
		state = Proposed
	}
	roles := []string{}
	for _, role := range p.Roles() {
		roles = append(roles, string(role))
	}
	var revertsArg *int64
	if reverts > 0 {
		revertsArg = &reverts
	}
	// The changeset's id goes to the session at once: the triggers record
	// it with every feature the operations write.
	var id int64
	if err := tx.QueryRow(ctx, `WITH c AS (INSERT INTO villageplan.changesets (author, author_id, roles, message, state, review_reason, reverts, published_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, CASE WHEN $5 = 'published' THEN clock_timestamp() END) RETURNING id)
		SELECT id FROM c WHERE set_config('villageplan.changeset', id::text, true) IS NOT NULL`,
		author, authorID, roles, message, state, strings.Join(reasons, "\n"), revertsArg).Scan(&id); err != nil {
		return nil, err
	}
	res := &Result{ID: id, State: state, ReviewReason: strings.Join(reasons, "\n")}
	if state == Published {
		if err := s.apply(ctx, tx, ops); err != nil {
			return nil, err
		}
	} else if err := s.tryApply(ctx, tx, ops); err != nil {
		return nil, err
	}
	b := &pgx.Batch{}
	if err := storeChanges(b, id, ops); err != nil {
		return nil, err
	}
	for _, op := range ops {
		w := Written{Operation: op.idx, Kind: op.kind, Layer: op.layer.ID, FeatureID: op.id}
		if state == Published && op.kind != Delete {
			w.ETag = features.ETag(op.id, op.newRev)
		}
		res.Features = append(res.Features, w)
	}
	action := "changeset.publish"
	if state == Proposed {
		action = "changeset.propose"
	}
	if reverts > 0 {
		action = "changeset.revert"
	}
	if err := audit(ctx, batchExec{b}, r, action, id, ops, map[string]any{"state": state, "reverts": reverts}); err != nil {
		return nil, err
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return nil, err
	}
	return res, nil
}

// batchExec queues the statements of auth.Audit in a batch, so that the
// audit row goes to the database with the changeset's other rows in one
// round trip (same transaction).
type batchExec struct{ b *pgx.Batch }

func (e batchExec) Exec(_ context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	e.b.Queue(sql, args...)
	return pgconn.CommandTag{}, nil
}

func audit(ctx context.Context, tx auth.Execer, r *http.Request, action string, id int64, ops []*prepOp, extra map[string]any) error {
	type ref struct {
		Op        Kind   `json:"op"`
		Layer     string `json:"collection"`
		FeatureID int64  `json:"feature_id,omitempty"`
	}
	var refs []ref
	personal := false
	village := ""
	for i, op := range ops {
		refs = append(refs, ref{op.kind, op.layer.ID, op.id})
		personal = personal || op.personal
		v := op.village(op.props)
		if i == 0 {
			village = v
		} else if v != village {
			village = ""
		}
	}
	extra["features"] = refs
	return auth.Audit(ctx, tx, r, auth.AuditEntry{Action: action, SubjectKind: "changeset", SubjectID: strconv.FormatInt(id, 10),
		Village: village, PersonalData: personal, Details: extra})
}

// storeChanges queues the records of the operations of changeset id.
func storeChanges(b *pgx.Batch, id int64, ops []*prepOp) error {
	for _, op := range ops {
		props, err := json.Marshal(op.props)
		if err != nil {
			return err
		}
		var fid *int64
		if op.id > 0 {
			fid = &op.id
		}
		var base *string
		if op.baseRev != "" {
			base = &op.baseRev
		}
		b.Queue(`INSERT INTO villageplan.changeset_changes (changeset_id, seq, layer, feature_id, kind, base_rev, properties, geom)
			VALUES ($1, $2, $3, $4, $5, $6, $7, ST_GeomFromEWKB($8))`, id, op.idx, op.layer.ID, fid, string(op.kind), base, props, op.ewkb)
	}
	return nil
}

// columns lists the layer's field columns, quoted.
func columns(l *layers.Layer, prefix string) string {
	var cs []string
	for _, f := range l.Fields {
		cs = append(cs, prefix+layers.QuoteIdent(f.Name))
	}
	return strings.Join(cs, ", ")
}

// apply writes the operations (already validated and locked), then checks
// the topology rules on the final state.
func (s *Service) apply(ctx context.Context, tx pgx.Tx, ops []*prepOp) error {
	for _, op := range ops {
		l := op.layer
		props, err := json.Marshal(op.props)
		if err != nil {
			return err
		}
		tbl := l.QualifiedTable()
		rec := `jsonb_populate_record(NULL::` + tbl + `, $1::jsonb)`
		switch op.kind {
		case Create:
			if op.restore {
				err = tx.QueryRow(ctx, `INSERT INTO `+tbl+` (id, `+columns(l, "")+`, geom) OVERRIDING SYSTEM VALUE
					SELECT $3, `+columns(l, "r.")+`, ST_GeomFromEWKB($2) FROM `+rec+` r RETURNING id, xmin::text`, props, op.ewkb, op.id).Scan(&op.id, &op.newRev)
			} else {
				err = tx.QueryRow(ctx, `INSERT INTO `+tbl+` (`+columns(l, "")+`, geom)
					SELECT `+columns(l, "r.")+`, ST_GeomFromEWKB($2) FROM `+rec+` r RETURNING id, xmin::text`, props, op.ewkb).Scan(&op.id, &op.newRev)
			}
		case Replace, Patch:
			var sets []string
			for _, f := range l.Fields {
				sets = append(sets, layers.QuoteIdent(f.Name)+" = r."+layers.QuoteIdent(f.Name))
			}
			err = tx.QueryRow(ctx, `UPDATE `+tbl+` t SET `+strings.Join(sets, ", ")+`, geom = coalesce(ST_GeomFromEWKB($2), t.geom)
				FROM `+rec+` r WHERE t.id = $3 RETURNING t.xmin::text`, props, op.ewkb, op.id).Scan(&op.newRev)
			if op.ewkb == nil {
				op.ewkb = op.oldEWKB
			}
		case Delete:
			_, err = tx.Exec(ctx, `DELETE FROM `+tbl+` WHERE id = $1`, op.id)
		}
		if err != nil {
			return s.dbError(op, err)
		}
	}
	return s.checkTopology(ctx, tx, ops)
}

// tryApply applies a proposed changeset's operations inside a savepoint
// and rolls them back, so that the author learns at once about a unique
// value or a topology rule the changeset breaks (approval checks again,
// on the state of that moment).
func (s *Service) tryApply(ctx context.Context, tx pgx.Tx, ops []*prepOp) error {
	sp, err := tx.Begin(ctx)
	if err != nil {
		return err
	}
	ids := make([]int64, len(ops))
	for i, op := range ops {
		ids[i] = op.id
	}
	err = s.apply(ctx, sp, ops)
	if rbErr := sp.Rollback(ctx); err == nil {
		err = rbErr
	}
	for i, op := range ops {
		op.id, op.newRev = ids[i], ""
	}
	return err
}

// dbError translates a constraint violation into the catalog rule it
// enforces (the database holds the same rules for psql and QGIS).
func (s *Service) dbError(op *prepOp, err error) error {
	var pg *pgconn.PgError
	if !errors.As(err, &pg) {
		return err
	}
	if rule, ok := s.catalog.RuleByName(pg.ConstraintName); ok {
		status, code := http.StatusUnprocessableEntity, CodeInvalid
		zh, en := "违反数据规则：%s", "breaks a data rule: %s"
		if rule.Kind == layers.RuleUnique {
			status, code = http.StatusConflict, CodeUnique
			zh, en = "%s；该值已被另一要素使用，请换一个值", "%s; another feature holds this value, use another one"
			if f, ok := op.layer.Field(rule.Column); ok {
				if v, ok := op.props[f.Name]; ok && v != nil {
					vs := strings.ReplaceAll(fmt.Sprint(v), "%", "%%")
					zh, en = "%s；值 "+vs+" 已被另一要素使用，请换一个值", "%s; value "+vs+" is already held by another feature, use another one"
				}
			}
		}
		return newErr(status, code, fmt.Sprintf(zh, rule.ZH), fmt.Sprintf(en, rule.EN)).field(rule.Column).at(op)
	}
	if strings.HasPrefix(pg.Code, "23") || strings.HasPrefix(pg.Code, "22") {
		return newErr(http.StatusUnprocessableEntity, CodeInvalid, "数据库拒绝了该要素："+pg.Message, "the database refused the feature: "+pg.Message).at(op)
	}
	return err
}

// checkTopology runs the catalog's topology rules for every feature whose
// geometry the operations created or changed, on the state after all of
// them, and refuses the changeset (409) listing every conflict.
func (s *Service) checkTopology(ctx context.Context, tx pgx.Tx, ops []*prepOp) error {
	var conflicts []Conflict
	var first *prepOp
	for _, op := range ops {
		if op.kind == Delete || !op.geomChanged {
			continue
		}
		rules := op.layer.Editing.Topology
		if len(rules) == 0 {
			continue
		}
		// One statement for all rules of the layer: per rule the features
		// of the other layer overlapping the edited one by more than the
		// tolerance, with the overlap on the Gauss-Krüger plane of the
		// feature's 3-degree zone (EPSG:4534–4554; on the ellipsoid
		// outside zones 25–45).
		var parts []string
		args := []any{op.id}
		for k, t := range rules {
			other, _ := s.catalog.Layer(t.Other)
			notSelf := "true"
			if other.ID == op.layer.ID {
				notSelf = "o.id <> $1"
			}
			args = append(args, t.ToleranceM2)
			parts = append(parts, `SELECT `+strconv.Itoa(k)+` AS k, o.id, a.m2 FROM f JOIN `+other.QualifiedTable()+
				` o ON o.geom && f.g AND ST_Intersects(o.geom, f.g) AND `+notSelf+`
				CROSS JOIN LATERAL (SELECT CASE WHEN ST_IsValid(o.geom) THEN o.geom ELSE ST_CollectionExtract(ST_MakeValid(o.geom), 3) END AS og) v
				CROSS JOIN LATERAL (SELECT CASE WHEN f.z BETWEEN 25 AND 45
				        THEN ST_Area(ST_Intersection(ST_Transform(v.og, 4509 + f.z), f.p))
				        ELSE ST_Area(ST_Intersection(v.og, f.g)::geography) END AS m2) a
				WHERE a.m2 > $`+strconv.Itoa(len(args)))
		}
		rows, err := tx.Query(ctx, `WITH f0 AS (SELECT geom AS g, floor(ST_X(ST_Centroid(geom)) / 3 + 0.5)::int AS z FROM `+op.layer.QualifiedTable()+` WHERE id = $1),
			f AS MATERIALIZED (SELECT g, z, CASE WHEN z BETWEEN 25 AND 45 THEN ST_Transform(g, 4509 + z) END AS p FROM f0)
			SELECT x.k, x.id, x.m2, CASE WHEN f.z BETWEEN 25 AND 45 THEN 4509 + f.z ELSE 0 END
			FROM (`+strings.Join(parts, " UNION ALL ")+`) x CROSS JOIN f ORDER BY x.k, x.m2 DESC, x.id LIMIT 50`, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var k int
			c := Conflict{Operation: op.idx}
			if err := rows.Scan(&k, &c.FeatureID, &c.OverlapM2, &c.MeasureEPSG); err != nil {
				rows.Close()
				return err
			}
			t := rules[k]
			c.Layer, c.Rule, c.ToleranceM2 = t.Other, op.layer.ID+" "+string(t.Kind)+" "+t.Other, t.ToleranceM2
			if op.kind != Create || op.restore {
				c.EditedID = op.id // a new feature's id is rolled back
			}
			c.OverlapM2 = float64(int64(c.OverlapM2*100+0.5)) / 100
			conflicts = append(conflicts, c)
			if first == nil {
				first = op
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	if len(conflicts) == 0 {
		return nil
	}
	c := conflicts[0]
	rule := topologyRule(first.layer, c.Layer)
	var listZH, listEN []string
	for _, x := range conflicts {
		listZH = append(listZH, fmt.Sprintf("%s 要素 %d（重叠 %.2f 平方米）", x.Layer, x.FeatureID, x.OverlapM2))
		listEN = append(listEN, fmt.Sprintf("%s feature %d (%.2f m² overlap)", x.Layer, x.FeatureID, x.OverlapM2))
	}
	plane := "EPSG:" + strconv.Itoa(c.MeasureEPSG)
	if c.MeasureEPSG == 0 {
		plane = "椭球面 / the ellipsoid"
	}
	e := newErr(http.StatusConflict, CodeTopology,
		fmt.Sprintf("违反拓扑规则“%s”：与 %s 重叠，超过容差 %.2f 平方米（面积在 %s 上计算）；请修改图形使其不重叠",
			rule.ZH, strings.Join(listZH, "、"), c.ToleranceM2, plane),
		fmt.Sprintf("breaks the topology rule %q: overlaps %s, more than the tolerance of %.2f m² (areas on %s); reshape it so that they do not overlap",
			rule.EN, strings.Join(listEN, ", "), c.ToleranceM2, plane))
	e.Conflicts = conflicts
	return e.field("geometry").at(first)
}

func topologyRule(l *layers.Layer, other string) layers.TopologyRule {
	for _, t := range l.Editing.Topology {
		if t.Other == other {
			return t
		}
	}
	return layers.TopologyRule{}
}

// Info describes a changeset.
type Info struct {
	ID            int64      `json:"id"`
	Author        string     `json:"author"`
	Roles         []string   `json:"roles"`
	Message       string     `json:"message"`
	Created       time.Time  `json:"created"`
	State         string     `json:"state"`
	ReviewReason  string     `json:"review_reason,omitempty"`
	Reviewer      *string    `json:"reviewer,omitempty"`
	ReviewedAt    *time.Time `json:"reviewed_at,omitempty"`
	ReviewComment *string    `json:"review_comment,omitempty"`
	PublishedAt   *time.Time `json:"published_at,omitempty"`
	Reverts       *int64     `json:"reverts,omitempty"`
	RevertedBy    []int64    `json:"reverted_by,omitempty"`
	Changes       int        `json:"changes"`
	authorID      *int64
}

const infoSelect = `SELECT c.id, c.author, c.roles, c.message, c.created, c.state, c.review_reason, c.reviewer, c.reviewed_at,
	c.review_comment, c.published_at, c.reverts,
	coalesce((SELECT array_agg(r.id ORDER BY r.id) FROM villageplan.changesets r WHERE r.reverts = c.id AND r.state = 'published'), '{}'),
	(SELECT count(*) FROM villageplan.changeset_changes x WHERE x.changeset_id = c.id)::int, c.author_id
	FROM villageplan.changesets c`

func scanInfo(row pgx.Row) (*Info, error) {
	var i Info
	err := row.Scan(&i.ID, &i.Author, &i.Roles, &i.Message, &i.Created, &i.State, &i.ReviewReason, &i.Reviewer, &i.ReviewedAt,
		&i.ReviewComment, &i.PublishedAt, &i.Reverts, &i.RevertedBy, &i.Changes, &i.authorID)
	return &i, err
}

// List returns changesets, newest first; state "" for all.
func (s *Service) List(ctx context.Context, state string, limit, offset int) ([]*Info, error) {
	rows, err := s.pool.Query(ctx, infoSelect+` WHERE ($1 = '' OR c.state = $1) ORDER BY c.id DESC LIMIT $2 OFFSET $3`, state, limit, offset)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Info
	for rows.Next() {
		i, err := scanInfo(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, i)
	}
	return out, rows.Err()
}

// Get returns changeset id and its changes as GeoJSON Features (geometry
// in CRS84, personal fields left out) with foreign members "collection",
// "change" (create, replace, patch, delete; for a delete the feature as it
// was) and, for a replace or patch, "before": the feature before the change
// (published: from the history; proposed: as it is now; rejected: none).
// ok is false when there is no such changeset.
func (s *Service) Get(ctx context.Context, id int64) (info *Info, changes []json.RawMessage, ok bool, err error) {
	info, err = scanInfo(s.pool.QueryRow(ctx, infoSelect+` WHERE c.id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil, false, nil
	}
	if err != nil {
		return nil, nil, false, err
	}
	rows, err := s.pool.Query(ctx, `SELECT x.seq, x.layer, x.feature_id, x.kind, x.properties, ST_AsGeoJSON(x.geom, 8, 0),
		b.before - 'geom', ST_AsGeoJSON(ST_GeomFromEWKB(decode(b.before ->> 'geom', 'hex')), 8, 0)
		FROM villageplan.changeset_changes x
		LEFT JOIN LATERAL (SELECT h.before FROM villageplan.edit_history h
			WHERE h.changeset_id = x.changeset_id AND h.layer = x.layer AND h.feature_id = x.feature_id AND x.kind IN ('replace', 'patch')
			ORDER BY h.id LIMIT 1) b ON true
		WHERE x.changeset_id = $1 ORDER BY x.seq`, id)
	if err != nil {
		return nil, nil, false, err
	}
	type change struct {
		seq                int
		layer, kind        string
		fid                *int64
		props, beforeProps []byte
		geom, beforeGeom   *string
	}
	var cs []change
	for rows.Next() {
		var c change
		if err := rows.Scan(&c.seq, &c.layer, &c.fid, &c.kind, &c.props, &c.geom, &c.beforeProps, &c.beforeGeom); err != nil {
			rows.Close()
			return nil, nil, false, err
		}
		cs = append(cs, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, false, err
	}
	feature := func(layer string, fid *int64, props []byte, geom *string) map[string]any {
		m := map[string]any{}
		_ = json.Unmarshal(props, &m)
		if l, ok := s.catalog.Layer(layer); ok {
			visible := map[string]any{}
			for _, f := range features.VisibleFields(l, false) {
				visible[f.Name] = m[f.Name]
			}
			m = visible
		}
		f := map[string]any{"type": "Feature", "properties": m, "geometry": nil}
		if fid != nil {
			f["id"] = *fid
		}
		if geom != nil {
			f["geometry"] = json.RawMessage(*geom)
		}
		return f
	}
	for _, c := range cs {
		f := feature(c.layer, c.fid, c.props, c.geom)
		f["collection"], f["change"], f["operation"] = c.layer, c.kind, c.seq
		if c.kind == string(Replace) || c.kind == string(Patch) {
			switch {
			case c.beforeGeom != nil:
				f["before"] = feature(c.layer, c.fid, c.beforeProps, c.beforeGeom)
			case info.State == Proposed && c.fid != nil:
				if l, ok := s.catalog.Layer(c.layer); ok {
					var props []byte
					var geom *string
					err := s.pool.QueryRow(ctx, `SELECT to_jsonb(t) - 'geom' - 'geom_3857', ST_AsGeoJSON(t.geom, 8, 0) FROM `+l.QualifiedTable()+` t WHERE t.id = $1`, *c.fid).Scan(&props, &geom)
					if err != nil && !errors.Is(err, pgx.ErrNoRows) {
						return nil, nil, false, err
					}
					if err == nil {
						f["before"] = feature(c.layer, c.fid, props, geom)
					}
				}
			}
		}
		b, err := json.Marshal(f)
		if err != nil {
			return nil, nil, false, err
		}
		changes = append(changes, b)
	}
	return info, changes, true, nil
}
