package editing

import "fmt"

// Error is a refused edit: an HTTP status, a machine code, the message in
// Chinese and English (what is wrong and what to do), and where: the
// operation (1-based, 0 when the error is about the whole changeset), the
// layer, feature and field, the location of an invalid geometry, the
// conflicting features of a topology rule, a conflicting revert, or the
// current ETag of a feature that changed since the client read it. Nothing
// of the changeset has been written when an Error is returned.
type Error struct {
	Status int    `json:"-"`
	Code   string `json:"code"`
	ZH     string `json:"description_zh"`
	EN     string `json:"description_en"`
	// Operation is the 1-based index of the operation at fault.
	Operation int    `json:"operation,omitempty"`
	Layer     string `json:"collection,omitempty"`
	FeatureID int64  `json:"feature_id,omitempty"`
	Field     string `json:"field,omitempty"`
	// Lon and Lat locate an invalid geometry's problem (CRS84 degrees);
	// X and Y give the same point in the CRS the geometry was sent in
	// (GeoJSON order: easting/longitude first).
	Lon *float64 `json:"lon,omitempty"`
	Lat *float64 `json:"lat,omitempty"`
	X   *float64 `json:"x,omitempty"`
	Y   *float64 `json:"y,omitempty"`
	// Conflicts lists the features that break a topology rule with the
	// edited one, or the features a revert cannot undo.
	Conflicts []Conflict `json:"conflicts,omitempty"`
	// CurrentETag is the feature's ETag now (412).
	CurrentETag string `json:"current_etag,omitempty"`
}

// Conflict is one feature in the way of an edit.
type Conflict struct {
	// Operation is the 1-based operation whose feature conflicts.
	Operation int    `json:"operation,omitempty"`
	Layer     string `json:"collection"`
	FeatureID int64  `json:"feature_id"`
	// EditedID is the feature the operation wrote (0 for a create that
	// did not get an id because nothing was written).
	EditedID int64 `json:"edited_feature_id,omitempty"`
	// Rule names the topology rule ("homesteads no_overlap permanent_farmland").
	Rule string `json:"rule,omitempty"`
	// OverlapM2 is the overlap in square metres on the Gauss-Krüger plane
	// of MeasureEPSG.
	OverlapM2   float64 `json:"overlap_m2,omitempty"`
	ToleranceM2 float64 `json:"tolerance_m2,omitempty"`
	MeasureEPSG int     `json:"measure_epsg,omitempty"`
	// ChangesetID and Actor name a later edit that stops a revert.
	ChangesetID int64  `json:"changeset_id,omitempty"`
	Actor       string `json:"actor,omitempty"`
	At          string `json:"at,omitempty"`
}

func (e *Error) Error() string { return e.ZH + " / " + e.EN }

// Description is the message in both languages, Chinese first.
func (e *Error) Description() string { return e.ZH + " " + e.EN }

func errf(status int, code string, zh, en string, a ...any) *Error {
	return &Error{Status: status, Code: code, ZH: fmt.Sprintf(zh, a...), EN: fmt.Sprintf(en, a...)}
}

// newErr is an Error with messages already formatted.
func newErr(status int, code, zh, en string) *Error {
	return &Error{Status: status, Code: code, ZH: zh, EN: en}
}

// at names the operation, layer and feature of e.
func (e *Error) at(op *prepOp) *Error {
	if op == nil {
		return e
	}
	e.Operation, e.Layer = op.idx, op.layer.ID
	// A new feature has no id until the changeset lands.
	named := op.id > 0 && (op.kind != Create || op.restore)
	if named {
		e.FeatureID = op.id
	}
	where := fmt.Sprintf("第 %d 项操作（图层 %s %s", op.idx, op.layer.ID, op.layer.TitleZH)
	whereEN := fmt.Sprintf("operation %d (layer %s", op.idx, op.layer.ID)
	if op.kind == Create && !op.restore {
		where += "，新要素"
		whereEN += ", new feature"
	}
	if named {
		where += fmt.Sprintf("，要素 %d", op.id)
		whereEN += fmt.Sprintf(", feature %d", op.id)
	}
	e.ZH = where + "）：" + e.ZH
	e.EN = whereEN + "): " + e.EN
	return e
}

func (e *Error) field(name string) *Error { e.Field = name; return e }

// Codes of the errors.
const (
	CodeInvalid          = "InvalidFeature"       // 422: a field or the geometry breaks the catalog
	CodeBadRequest       = "BadRequest"           // 400: the request cannot be read
	CodeNotFound         = "NotFound"             // 404
	CodeForbidden        = "Forbidden"            // 403
	CodePreconditionReq  = "PreconditionRequired" // 428: no If-Match
	CodePreconditionFail = "PreconditionFailed"   // 412: the feature changed since
	CodeTopology         = "TopologyViolation"    // 409
	CodeUnique           = "DuplicateValue"       // 409: a unique field's value exists
	CodeConflict         = "Conflict"             // 409: state conflicts (revert, approval)
)
