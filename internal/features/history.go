package features

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"villageplan/internal/db"
	"villageplan/layers"
)

// Version is one event in a feature's history (villageplan.feature_edits:
// edits through the service, imports, QGIS and psql) with the feature as
// it was after it.
type Version struct {
	// Event is the history event id (edit_history / edit_batch, one
	// sequence), increasing with time.
	Event int64 `json:"event"`
	// Action is insert, update or delete.
	Action string    `json:"action"`
	Actor  string    `json:"actor"`
	At     time.Time `json:"at"`
	// Recorded is "row" (one history row per feature) or "batch" (the
	// compact record of a bulk load).
	Recorded string `json:"recorded"`
	// Changeset, Message and State name the service changeset of the edit
	// (nil for imports, QGIS and psql).
	Changeset *int64  `json:"changeset,omitempty"`
	Message   *string `json:"message,omitempty"`
	// Feature is the GeoJSON Feature after the event (CRS84, personal
	// fields left out); nil after a delete.
	Feature json.RawMessage `json:"feature"`
}

// History returns the versions of feature id of l, oldest first, and
// whether the feature has any history or exists. The state after an event
// that the compact batch record holds without its "after" (a bulk load) is
// the "before" of the next event, or the current row.
func (s *Service) History(ctx context.Context, l *layers.Layer, id int64) ([]Version, bool, error) {
	rows, err := db.PoolFrom(ctx, s.pool).Query(ctx, `SELECT e.id, e.action, e.actor, e.at, e.recorded, h.changeset_id, c.message,
		e.before - 'geom', ST_AsGeoJSON(ST_GeomFromEWKB(decode(e.before ->> 'geom', 'hex')), 8),
		e.after - 'geom', ST_AsGeoJSON(ST_GeomFromEWKB(decode(e.after ->> 'geom', 'hex')), 8)
		FROM villageplan.feature_edits($1, $2) e
		LEFT JOIN villageplan.edit_history h ON e.recorded = 'row' AND h.id = e.id
		LEFT JOIN villageplan.changesets c ON c.id = h.changeset_id`, l.ID, id)
	if err != nil {
		return nil, false, fmt.Errorf("history of %s %d: %w", l.ID, id, err)
	}
	type state struct {
		props []byte
		geom  *string
	}
	var vs []Version
	var befores, afters []state
	for rows.Next() {
		var v Version
		var b, a state
		if err := rows.Scan(&v.Event, &v.Action, &v.Actor, &v.At, &v.Recorded, &v.Changeset, &v.Message, &b.props, &b.geom, &a.props, &a.geom); err != nil {
			rows.Close()
			return nil, false, err
		}
		vs = append(vs, v)
		befores, afters = append(befores, b), append(afters, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, false, err
	}
	var cur state
	var curOK bool
	err = db.PoolFrom(ctx, s.pool).QueryRow(ctx, `SELECT to_jsonb(t) - 'geom' - 'geom_3857', ST_AsGeoJSON(t.geom, 8) FROM `+l.QualifiedTable()+` t WHERE t.id = $1`, id).
		Scan(&cur.props, &cur.geom)
	curOK = err == nil
	if len(vs) == 0 {
		return nil, curOK, nil
	}
	visible := VisibleFields(l, false)
	feature := func(st state) json.RawMessage {
		if st.geom == nil {
			return nil
		}
		m := map[string]any{}
		_ = json.Unmarshal(st.props, &m)
		props := map[string]any{}
		for _, f := range visible {
			props[f.Name] = m[f.Name]
		}
		b, _ := json.Marshal(map[string]any{"type": "Feature", "id": id, "geometry": json.RawMessage(*st.geom), "properties": props})
		return b
	}
	for i := range vs {
		if vs[i].Action == "delete" {
			continue
		}
		switch {
		case afters[i].geom != nil:
			vs[i].Feature = feature(afters[i])
		case i+1 < len(vs) && befores[i+1].geom != nil:
			vs[i].Feature = feature(befores[i+1])
		case i+1 == len(vs) && curOK:
			vs[i].Feature = feature(cur)
		}
	}
	return vs, true, nil
}
