package applications

import (
	"context"
	"strings"
	"testing"
	"time"

	"villageplan/internal/testpg"
	"villageplan/internal/workdays"
)

func TestMain(m *testing.M) { testpg.Main(m) }

var today = time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)

// GB 11643-1999 check character: the standard's own example and its
// neighbours with one digit changed.
func TestIDCheckDigit(t *testing.T) {
	if c := IDCheckDigit("11010519491231002"); c != 'X' {
		t.Errorf("check of the GB 11643 example = %c, want X", c)
	}
	if c := IDCheckDigit("44052418800101001"); c != '4' {
		t.Errorf("check = %c, want 4", c)
	}
	info, zh, _ := ParseID("11010519491231002x", today)
	if zh != "" || info.Sex != "女" || info.Birth.Format(time.DateOnly) != "1949-12-31" {
		t.Errorf("ParseID example = %+v %s", info, zh)
	}
	for id, want := range map[string]string{
		"110105194912310021": "校验码错误：第 18 位应为 X",
		"11010519491231002":  "应为 18 位",
		"1101051949123100AX": "第 17 位不是数字",
		"110105194902300021": "出生日期 19490230 无效",
		"110105203001010021": "出生日期 20300101 无效",
		"11010519491231002Y": "第 18 位（校验码）应为数字或 X",
		"110105194912310０2X": "全角",
	} {
		if _, zh, en := ParseID(id, today); !strings.Contains(zh, want) || en == "" {
			t.Errorf("ParseID(%s) = %q / %q, want %q", id, zh, en, want)
		}
	}
	// Every single-digit change of a valid number is caught.
	valid := fictitiousID("220112", time.Date(1970, 3, 4, 0, 0, 0, 0, time.UTC), 17)
	for i := 0; i < 17; i++ {
		for d := byte('0'); d <= '9'; d++ {
			if d == valid[i] {
				continue
			}
			b := []byte(valid)
			b[i] = d
			if _, zh, _ := ParseID(string(b), today); zh == "" {
				t.Errorf("%s (digit %d changed) accepted", b, i+1)
			}
		}
	}
}

func TestFormValidate(t *testing.T) {
	f := Form{VillageCode: "220112203301",
		Applicant: Person{Name: "示例", Sex: "男", Phone: "13800000000", IDNumber: fictitiousID("220112", time.Date(1980, 5, 1, 0, 0, 0, 0, time.UTC), 11), Hukou: "本村"},
		Proposed: Proposed{HousingLandM2: 150, AncillaryLandM2: 100, AncillaryBuildingLandM2: 20, Address: "一组", East: "路", South: "田", West: "张家", North: "渠",
			Situation: 2, LandClass: 1, FloorAreaM2: 160, Storeys: 2, HeightM: 7}, Reason: "分户"}
	if ps := f.Validate(today); len(ps) != 0 {
		t.Fatalf("valid form: %v", ps)
	}
	if f.Applicant.Age != 46 || f.Applicant.BirthDate != "1980-05-01" {
		t.Errorf("derived age %d birth %s", f.Applicant.Age, f.Applicant.BirthDate)
	}
	g := f
	g.Applicant.Sex = "女"
	g.Applicant.Age = 30
	g.Proposed.LandClass = 3
	g.Proposed.AncillaryBuildingLandM2 = 200
	g.Current = &CurrentHomestead{Disposal: "sell"}
	g.Members = []Person{{Name: "成员", IDNumber: g.Applicant.IDNumber, Hukou: "本村"}}
	fields := map[string]bool{}
	for _, p := range g.Validate(today) {
		fields[p.Field] = true
		if p.ZH == "" || p.EN == "" || p.Status != 422 {
			t.Errorf("problem without both languages: %+v", p)
		}
	}
	for _, want := range []string{"form.applicant.sex", "form.applicant.age", "form.proposed.land_subclass", "form.proposed.ancillary_building_land_m2",
		"form.current.disposal", "form.members[0].relation", "form.members[0].id_number"} {
		if !fields[want] {
			t.Errorf("no problem on %s (got %v)", want, fields)
		}
	}
}

func TestFormatNumber(t *testing.T) {
	if got := FormatNumber("双营子", "220112203", 2026, 7); got != "双营子宅批〔2026〕第0007号" {
		t.Errorf("FormatNumber = %s", got)
	}
	if got := FormatNumber("", "220112204", 2027, 12345); got != "220112204宅批〔2027〕第12345号" {
		t.Errorf("FormatNumber without a short name = %s", got)
	}
}

// A rolled-back approval frees nothing: its number was never committed,
// so the next approval takes it; numbers are per township and year.
func TestApprovalNumberRollback(t *testing.T) {
	pool := testpg.New(t)
	ctx := context.Background()
	s := NewService(pool, nil, Config{})
	take := func(township string, year int, commit bool) string {
		t.Helper()
		tx, err := pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(ctx) //nolint:errcheck
		n, err := s.allocateNumber(ctx, tx, township, year)
		if err != nil {
			t.Fatal(err)
		}
		if commit {
			if err := tx.Commit(ctx); err != nil {
				t.Fatal(err)
			}
		}
		return n
	}
	for _, c := range []struct {
		township string
		year     int
		commit   bool
		want     string
	}{
		{"220112203", 2026, false, "双营子宅批〔2026〕第0001号"},
		{"220112203", 2026, true, "双营子宅批〔2026〕第0001号"},
		{"220112203", 2026, false, "双营子宅批〔2026〕第0002号"},
		{"220112203", 2026, true, "双营子宅批〔2026〕第0002号"},
		{"220112203", 2027, true, "双营子宅批〔2027〕第0001号"},
		{"220112204", 2026, true, "220112204宅批〔2026〕第0001号"},
		{"220112203", 2026, true, "双营子宅批〔2026〕第0003号"},
	} {
		if got := take(c.township, c.year, c.commit); got != c.want {
			t.Errorf("%s %d = %s, want %s", c.township, c.year, got, c.want)
		}
	}
}

// Deadlines: 公示 ends on its own date; 联审 and the decision run 20
// working days from 受理 across 春节 2026.
func TestDueDates(t *testing.T) {
	s := NewService(nil, nil, Config{})
	cal := workdays.New()
	acc := time.Date(2026, 2, 5, 0, 0, 0, 0, time.UTC)
	a := &row{AcceptedOn: &acc, Steps: Steps{Group: &GroupStep{PublicityEnd: "2026-02-13"}}}
	if d := s.dueFor(JointReview, a, acc, cal); d == nil || d.Format(time.DateOnly) != "2026-03-11" {
		t.Errorf("decision due = %v, want 2026-03-11", d)
	}
	if d := s.dueFor(Publicizing, a, acc, cal); d == nil || d.Format(time.DateOnly) != "2026-02-13" {
		t.Errorf("公示 due = %v", d)
	}
	if d := s.dueFor(Submitted, a, time.Date(2026, 9, 30, 0, 0, 0, 0, time.UTC), cal); d == nil || d.Format(time.DateOnly) != "2026-10-13" {
		t.Errorf("group review due from 2026-09-30 = %v, want 2026-10-13 (国庆 10-01…07 off, Saturday 10-10 worked)", d)
	}
	if d := s.dueFor(Building, a, acc, cal); d != nil {
		t.Errorf("building has a deadline %v", d)
	}
}
