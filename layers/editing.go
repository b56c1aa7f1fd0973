package layers

import (
	"fmt"
	"slices"
)

// Editing declares how a layer is edited through the service (package
// internal/editing, the OGC API – Features Part 4 routes and /changesets):
// who may edit it besides the planning editors, whether a change must be
// reviewed by a second person before it is published, and the topology
// rules that every edit must keep. The zero value is a layer that planning
// editors (auth role planning_editor) edit without review and without
// topology rules.
type Editing struct {
	// Roles are auth role codes (internal/auth: "township_approver",
	// "village_clerk" …) that may edit the layer in addition to
	// planning_editor. A village-scoped grant covers the features whose
	// administrative-code field (Field.AdminCode) names that village.
	Roles []string
	// Review, when set, says which changes are proposed (stored, not
	// applied) until a second person approves them.
	Review *Review
	// Topology rules every created or reshaped feature must keep; checked
	// in PostGIS inside the edit's transaction, on the feature's final
	// state after the whole changeset.
	Topology []TopologyRule
}

// Review says which changes of a layer need a second person's approval.
type Review struct {
	// All: every change of the layer.
	All bool
	// Field and Values: a change of a feature whose Field holds one of
	// Values before or after the change (a zone re-graded out of
	// 生态保护红线 is reviewed too).
	Field  string
	Values []string
	// ZH and EN say why, with the legal basis.
	ZH, EN string
}

// Applies reports whether a change from before to after (the Field value
// of the feature; "" for none, as for a create or a delete) needs review.
func (r *Review) Applies(before, after string) bool {
	if r == nil {
		return false
	}
	if r.All {
		return true
	}
	return slices.Contains(r.Values, before) || slices.Contains(r.Values, after)
}

// TopologyKind is the kind of a topology rule.
type TopologyKind string

// NoOverlap: the interior of a feature of the layer may not overlap a
// feature of Other (another feature of the same layer when Other is the
// layer itself) by more than ToleranceM2 square metres.
const NoOverlap TopologyKind = "no_overlap"

// TopologyRule is one topology rule of a layer. Overlap areas are
// computed by PostGIS on the CGCS2000 3-degree Gauss-Krüger plane of the
// edited feature's zone (EPSG:4534–4554, e.g. EPSG:4551 for 双阳), as
// surveyors compute areas from 界址点.
type TopologyRule struct {
	Kind TopologyKind
	// Other is the ID of the layer the rule compares with.
	Other string
	// ToleranceM2 is the overlap in m² that is still accepted (slivers of
	// digitising and of the ~5 cm accuracy of 界址点 surveys).
	ToleranceM2 float64
	// ZH and EN state the rule and its basis for people.
	ZH, EN string
}

// validateEditing checks a layer's Editing against the catalog (called by
// NewCatalog once every layer is known).
func validateEditing(c *Catalog, l *Layer) error {
	e := l.Editing
	if r := e.Review; r != nil {
		if r.ZH == "" || r.EN == "" {
			return fmt.Errorf("layers: layer %q: review needs its reason in Chinese and English", l.ID)
		}
		if !r.All {
			f, ok := l.Field(r.Field)
			if !ok || len(r.Values) == 0 {
				return fmt.Errorf("layers: layer %q: review by field %q needs a field of the layer and values", l.ID, r.Field)
			}
			if f.CodeList != "" {
				cl, _ := CodeListByID(f.CodeList)
				for _, v := range r.Values {
					if !slices.ContainsFunc(cl.Values, func(cv CodeValue) bool { return cv.Value == v }) {
						return fmt.Errorf("layers: layer %q: review value %q is not in code list %s", l.ID, v, cl.ID)
					}
				}
			}
		}
	}
	for _, t := range e.Topology {
		o, ok := c.byID[t.Other]
		if t.Kind != NoOverlap || !ok {
			return fmt.Errorf("layers: layer %q: topology rule %q against unknown layer %q", l.ID, t.Kind, t.Other)
		}
		if l.Geometry != MultiPolygon || o.Geometry != MultiPolygon {
			return fmt.Errorf("layers: layer %q: no_overlap compares polygon layers only", l.ID)
		}
		if t.ToleranceM2 < 0 || t.ZH == "" || t.EN == "" {
			return fmt.Errorf("layers: layer %q: topology rule against %q needs a tolerance ≥ 0 and its text in Chinese and English", l.ID, t.Other)
		}
	}
	return nil
}
