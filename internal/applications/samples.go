package applications

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"villageplan/internal/auth"
	"villageplan/internal/siting"
	"villageplan/internal/workdays"
	"villageplan/layers"
)

// samplePrincipal files and moves the sample applications; its name is in
// every event and audit row they leave.
var samplePrincipal = &auth.Principal{Username: "示例数据", DisplayName: "示例数据（自动生成）", Via: "sample",
	Grants: []auth.Grant{{Role: auth.VillageClerk}, {Role: auth.TownshipWindow}, {Role: auth.ReviewAgriculture},
		{Role: auth.ReviewNaturalResources}, {Role: auth.ReviewPlanning}, {Role: auth.TownshipApprover}}}

// SampleStates are the states of the sample applications, one each, in
// filing order (the first is filed 30 days before now, so its group review
// is overdue).
var SampleStates = []State{Submitted, Submitted, Publicizing, VillageReview, TownshipAcceptance, JointReview, Decision,
	Approved, Building, Registered, Rejected, Withdrawn}

// samplePDF is the content of every sample document: a minimal PDF that
// says it is sample data.
var samplePDF = []byte("%PDF-1.4\n% 示例数据 sample data, not a real document\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n" +
	"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")

// LoadSamples files the sample applications of the sample township
// (data/sample, 双营子回族乡; only when the villages layer holds sample data,
// never in a real database) through the Service itself, one in each of
// SampleStates, on 15 m × 18 m sites inside the villages' 村庄集中建设区 or
// 村庄弹性发展区 clear of existing parcels, and returns how many it filed. It does nothing (0)
// when sample applications exist already. The applicants' names are
// "示例户主N（示例数据）", their ID numbers fictitious (area 220112, birth
// 1985, sequence 9NN, valid check digit), phones 1380000NNNN; every row
// has is_sample. now is the desk's clock for the samples (dates and
// deadlines are relative to it); the same data and now give the same
// applications.
func LoadSamples(ctx context.Context, pool *pgxpool.Pool, sit *siting.Service, now time.Time) (int, error) {
	var exists, sampleData bool
	if err := pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM villageplan.applications WHERE is_sample),
		EXISTS (SELECT 1 FROM villageplan.layer_metadata WHERE layer = $1 AND is_sample)`, layers.Villages.ID).Scan(&exists, &sampleData); err != nil {
		return 0, err
	}
	if exists || !sampleData {
		return 0, nil
	}
	cands, err := sampleSites(ctx, pool)
	if err != nil {
		return 0, err
	}
	if len(cands) == 0 {
		return 0, nil // not the sample township (e.g. the county-scale set)
	}
	ctx = context.WithValue(auth.WithPrincipal(ctx, samplePrincipal), sampleKey{}, true)
	svc := NewService(pool, sit, Config{Now: func() time.Time { return now }})
	past := NewService(pool, sit, Config{Now: func() time.Time { return now.AddDate(0, 0, -30) }})
	cal, err := workdays.Load(ctx, pool)
	if err != nil {
		return 0, err
	}
	today := workdays.Day(now.In(China))
	next := 0
	filed := 0
	for i, target := range SampleStates {
		s := svc
		if i == 0 {
			s = past
		}
		var a *Application
		for next < len(cands) && a == nil {
			c := cands[next]
			next++
			f := sampleForm(i, c.village)
			si := &SiteInput{GeoJSON: json.RawMessage(c.geojson), CRS: "EPSG:4551"}
			// Try the site first (nothing stored): the refused sample
			// needs a BLOCK site, the approved ones a site that is not.
			site, err := si.parse("site")
			if err != nil {
				continue
			}
			res, err := sit.Check(ctx, site, checkInput(&f))
			if err != nil || res.Site.VillageCode != f.VillageCode {
				continue
			}
			if blocked := res.Verdict == siting.Block; blocked != (target == Rejected) && target != Submitted && target != Withdrawn {
				continue
			}
			if a, err = s.Create(ctx, f, si); err != nil {
				return filed, fmt.Errorf("sample application %d: %w", i+1, err)
			}
		}
		if a == nil {
			return filed, fmt.Errorf("sample application %d: no suitable site among %d candidates in the 村庄建设边界", i+1, len(cands))
		}
		filed++
		if err := sampleAdvance(ctx, s, a, target, cal, today, i); err != nil {
			return filed, fmt.Errorf("sample application %d to %s: %w", i+1, target, err)
		}
	}
	return filed, nil
}

type sampleSite struct{ village, geojson string }

// sampleSites are candidate 15 m × 18 m sites (GeoJSON on EPSG:4551) in the
// 村庄集中建设区, then the 村庄弹性发展区, of each village of the township, at
// least 2 m from any homestead, in a deterministic order (points of a
// seeded ST_GeneratePoints, villages by code).
func sampleSites(ctx context.Context, pool *pgxpool.Pool) ([]sampleSite, error) {
	rows, err := pool.Query(ctx, `WITH z AS (
			SELECT v.xzqdm, c.gkbjlxmc <> '村庄集中建设区' AS flexible, ST_Intersection(ST_Transform(c.geom, 4551), ST_Transform(v.geom, 4551)) AS g
			FROM `+layers.Villages.QualifiedTable()+` v JOIN `+layers.ControlZones.QualifiedTable()+` c
				ON c.gkbjlxmc IN ('村庄集中建设区', '村庄弹性发展区') AND ST_Intersects(c.geom, v.geom)
			WHERE v.xzqdm LIKE '220112203%'),
		p AS (SELECT z.xzqdm, z.flexible, z.g, (d).path[1] AS n, (d).geom AS pt FROM z, ST_Dump(ST_GeneratePoints(z.g, 30, 20261202)) d),
		e AS (SELECT xzqdm, flexible, n, g, ST_MakeEnvelope(ST_X(pt), ST_Y(pt), ST_X(pt) + 15, ST_Y(pt) + 18, 4551) AS env FROM p)
		SELECT xzqdm, ST_AsGeoJSON(env, 3) FROM e
		WHERE ST_Within(env, g) AND NOT EXISTS (SELECT 1 FROM `+layers.Homesteads.QualifiedTable()+` h
			WHERE ST_Intersects(h.geom, ST_Transform(ST_Buffer(env, 2), 4490)))
		ORDER BY flexible, n, xzqdm`)
	if err != nil {
		return nil, fmt.Errorf("sample sites: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (sampleSite, error) {
		var s sampleSite
		return s, r.Scan(&s.village, &s.geojson)
	})
}

func sampleForm(i int, village string) Form {
	birth := time.Date(1985, time.Month(1+i%12), 1+i, 0, 0, 0, 0, time.UTC)
	hukou := "双阳区双营子回族乡（示例数据）"
	return Form{VillageCode: village,
		Applicant: Person{Name: fmt.Sprintf("示例户主%d（示例数据）", i+1), Sex: "男", Phone: fmt.Sprintf("1380000%04d", i+1),
			IDNumber: fictitiousID("220112", birth, 901+2*i), Hukou: hukou},
		Members: []Person{{Name: fmt.Sprintf("示例成员%d（示例数据）", i+1), Relation: "配偶",
			IDNumber: fictitiousID("220112", birth.AddDate(1, 0, 0), 900+2*i), Hukou: hukou}},
		Proposed: Proposed{HousingLandM2: 150, AncillaryLandM2: 120, AncillaryBuildingLandM2: 30,
			Address: fmt.Sprintf("示例地址 %d 号（示例数据）", i+1), East: "村道", South: "空地", West: "邻户", North: "空地",
			Situation: 2, LandClass: 1, FloorAreaM2: 180, Storeys: 2, HeightM: 7.5, NeighboursConsulted: true},
		Reason: "示例数据：分户另住，现无宅基地"}
}

// sampleAdvance moves a sample application to target with the payloads a
// desk would send.
func sampleAdvance(ctx context.Context, s *Service, a *Application, target State, cal *workdays.Calendar, today time.Time, i int) error {
	d := func(t time.Time) string { return t.Format(time.DateOnly) }
	start := cal.AddWorkdays(today, -12)
	steps := []struct {
		until   State // done when the target is past this state
		action  Action
		payload any
	}{
		{Submitted, Publicize, PublicizePayload{MeetingDate: d(start.AddDate(0, 0, -1)), GroupLeader: "示例组长", PublicityStart: d(start), PublicityEnd: d(cal.AddWorkdays(today, -2))}},
		{Publicizing, GroupApprove, GroupApprovePayload{Opinion: "同意（示例数据）", Objections: []Objection{}}},
		{VillageReview, VillageApprove, VillageApprovePayload{Reviewer: "示例村主任", Opinion: "材料真实，符合村庄规划（示例数据）"}},
		{TownshipAcceptance, Accept, nil},
		{JointReview, Opinion, OpinionPayload{Department: Agriculture, Agree: ptrBool(true), Opinion: "同意（示例数据）"}},
		{JointReview, Opinion, OpinionPayload{Department: NaturalResources, Agree: ptrBool(true), Opinion: "同意（示例数据）"}},
		{JointReview, Opinion, OpinionPayload{Department: Planning, Agree: ptrBool(true), Opinion: "同意（示例数据）"}},
		{Decision, Approve, nil},
		{Approved, Stake, nil},
		{Staked, StartBuilding, nil},
		{Building, Inspect, nil},
		{Inspected, Register, RegisterPayload{ZDDM: fmt.Sprintf("%sJC9%04d", a.VillageCode, i+1)}},
	}
	if target == Publicizing {
		// still in its 公示: it ends in 3 working days
		steps[0].payload = PublicizePayload{MeetingDate: d(cal.AddWorkdays(today, -3)), GroupLeader: "示例组长", PublicityStart: d(cal.AddWorkdays(today, -2)), PublicityEnd: d(cal.AddWorkdays(today, 3))}
	}
	rank := func(s State) int {
		for k, x := range mainLine {
			if x == s {
				return k
			}
		}
		return -1
	}
	stop := target
	switch target {
	case Rejected, Withdrawn:
		stop = Decision
		if target == Withdrawn {
			stop = VillageReview
		}
	}
	v := a.Version
	site := a.Site
	for k, st := range steps {
		if rank(st.until) >= rank(stop) {
			break
		}
		if st.action == Accept {
			for _, kind := range RequiredDocuments {
				if _, err := s.AddDocument(ctx, a.ID, kind, "示例数据-"+kind.Label()+".pdf", samplePDF); err != nil {
					return err
				}
			}
		}
		var payload any = st.payload
		switch st.action {
		case Stake:
			payload = map[string]any{"site": json.RawMessage(site), "crs": "EPSG:4490"}
		case Inspect:
			payload = map[string]any{"site": json.RawMessage(site), "crs": "EPSG:4490", "opinion": "按批准建设（示例数据）"}
		}
		raw, _ := json.Marshal(payload)
		if payload == nil {
			raw = nil
		}
		out, err := s.Transition(ctx, a.ID, v, TransitionRequest{Action: st.action, Payload: raw, Note: "示例数据"})
		if err != nil {
			return fmt.Errorf("step %d %s: %w", k+1, st.action, err)
		}
		v = out.Version
	}
	switch target {
	case Rejected:
		raw, _ := json.Marshal(RejectPayload{Reasons: []string{"选址审查结论为禁止（示例数据）"}})
		_, err := s.Transition(ctx, a.ID, v, TransitionRequest{Action: Reject, Payload: raw, Note: "示例数据"})
		return err
	case Withdrawn:
		_, err := s.Transition(ctx, a.ID, v, TransitionRequest{Action: Withdraw, Note: "示例数据：申请人撤回"})
		return err
	case JointReview:
		// one opinion given, two pending
		raw, _ := json.Marshal(OpinionPayload{Department: Agriculture, Agree: ptrBool(true), Opinion: "同意（示例数据）"})
		_, err := s.Transition(ctx, a.ID, v, TransitionRequest{Action: Opinion, Payload: raw, Note: "示例数据"})
		return err
	}
	return nil
}

func ptrBool(b bool) *bool { return &b }
