package applications

import (
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"villageplan/internal/siting"
	"villageplan/layers"
)

// Form is the 农村宅基地和建房（规划许可）申请表 (DOMAIN.md §2, the official
// copy W2 / C10) less the site geometry, which is sent beside it. Areas are
// m² on the ground, heights m.
type Form struct {
	// VillageCode is the 12-digit 行政区划代码 of the village applied in.
	VillageCode string `json:"village_code"`
	// HouseholdID is the 户编号 of the household register, when known; it
	// is matched against homesteads.household_id for 一户一宅.
	HouseholdID string `json:"household_id,omitempty"`
	// Applicant is the 申请户主.
	Applicant Person `json:"applicant"`
	// Members are the 家庭成员 (without the 户主).
	Members []Person `json:"members"`
	// Current is the 现宅基地及农房情况; nil when the household has none.
	Current *CurrentHomestead `json:"current,omitempty"`
	// Proposed is the 拟申请宅基地及建房情况.
	Proposed Proposed `json:"proposed"`
	// Reason is the 申请理由.
	Reason string `json:"reason"`
	// PreviouslyTransferred is the household's declaration that it sold,
	// rented out or gave away a rural house before (土地管理法 第六十二条
	// 第五款, R16); true refuses the application.
	PreviouslyTransferred bool `json:"previously_transferred"`
}

// Person is the 户主 or a 家庭成员. For the 户主, Sex and Phone are
// required and Relation is empty; for a member, Relation (与户主关系) is
// required. Age is derived from the ID number when not given; a given age
// must match it.
type Person struct {
	Name      string `json:"name"`
	Sex       string `json:"sex,omitempty"` // 男 / 女
	Age       int    `json:"age,omitempty"`
	BirthDate string `json:"birth_date,omitempty"` // YYYY-MM-DD, from the ID number
	Phone     string `json:"phone,omitempty"`
	IDNumber  string `json:"id_number"`
	Hukou     string `json:"hukou"` // 户口所在地
	Relation  string `json:"relation,omitempty"`
}

// Disposal of the current homestead (现宅基地处置情况).
const (
	DisposalKeep   = "keep"   // 1 保留 (KeepM2 m²)
	DisposalReturn = "return" // 2 退给村集体
	DisposalOther  = "other"  // 3 其他 (DisposalNote)
)

var disposalLabel = map[string]string{DisposalKeep: "保留", DisposalReturn: "退给村集体", DisposalOther: "其他"}

// CurrentHomestead is the household's present homestead.
type CurrentHomestead struct {
	LandAreaM2    float64 `json:"land_area_m2"`
	FloorAreaM2   float64 `json:"floor_area_m2"`
	CertificateNo string  `json:"certificate_no,omitempty"` // 权属证书号
	Disposal      string  `json:"disposal"`
	KeepM2        float64 `json:"keep_m2,omitempty"`
	DisposalNote  string  `json:"disposal_note,omitempty"`
	// ZDDM links the parcel in the homesteads layer (宗地代码), if any; it
	// must be held by the household (户主 身份证号 or 户编号).
	ZDDM string `json:"zddm,omitempty"`
}

// Proposed is the proposed homestead and house.
type Proposed struct {
	HousingLandM2           float64 `json:"housing_land_m2"`            // 住房用地面积
	AncillaryLandM2         float64 `json:"ancillary_land_m2"`          // 附属设施（附属用房、庭院）用地面积
	AncillaryBuildingLandM2 float64 `json:"ancillary_building_land_m2"` // 其中附属用房用地面积
	Address                 string  `json:"address"`                    // 地址（坐落）
	East                    string  `json:"east"`                       // 四至
	South                   string  `json:"south"`
	West                    string  `json:"west"`
	North                   string  `json:"north"`
	// Situation is the 建设情形: 1 利用原宅基地建设, 2 新申请宅基地建设,
	// 3 改变、扩大宅基地建设.
	Situation int `json:"situation"`
	// LandClass is the 地类: 1 建设用地, 2 未利用地, 3 农用地 with
	// LandSubclass 耕地 / 林地 / 草地 / 其它.
	LandClass           int     `json:"land_class"`
	LandSubclass        string  `json:"land_subclass,omitempty"`
	FloorAreaM2         float64 `json:"floor_area_m2"` // 住宅建筑面积
	Storeys             int     `json:"storeys"`       // 建筑层数
	HeightM             float64 `json:"height_m"`      // 建筑高度
	NeighboursConsulted bool    `json:"neighbours_consulted"`
}

// TotalLandM2 is the 宅基地用地面积: 住房用地 + 附属设施用地.
func (p Proposed) TotalLandM2() float64 { return p.HousingLandM2 + p.AncillaryLandM2 }

var situationLabel = map[int]string{1: "利用原宅基地建设", 2: "新申请宅基地建设", 3: "改变、扩大宅基地建设"}
var landClassLabel = map[int]string{1: "建设用地", 2: "未利用地", 3: "农用地"}

var (
	villageRE = regexp.MustCompile(`^[0-9]{12}$`)
	phoneRE   = regexp.MustCompile(`^(1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8})$`)
	zddmRE    = regexp.MustCompile(`^[0-9]{12}[A-Z]{2}[0-9]{5}$`)
	bdcdyhRE  = regexp.MustCompile(layers.PatternBDCDYH)
)

// idWeights are the GB 11643-1999 weights 2^(17-i) mod 11 of the first 17
// digits; idCheck maps the weighted sum mod 11 to the check character.
var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

const idCheck = "10X98765432"

// IDCheckDigit is the GB 11643-1999 check character of the first 17
// digits of a 公民身份号码 (ISO 7064 MOD 11-2).
func IDCheckDigit(first17 string) byte {
	s := 0
	for i := 0; i < 17; i++ {
		s += int(first17[i]-'0') * idWeights[i]
	}
	return idCheck[s%11]
}

// IDInfo is what an ID number tells: birth date and sex (odd 17th digit:
// 男).
type IDInfo struct {
	Birth time.Time
	Sex   string
}

// ParseID validates an 18-character 公民身份号码 (GB 11643-1999): 6-digit
// address code, 8-digit birth date (a real date not in the future), 3-digit
// sequence, and the check character (digit or X; a lower-case x is
// accepted). The error says which part is wrong, in Chinese and English.
func ParseID(id string, today time.Time) (IDInfo, string, string) {
	if n := utf8.RuneCountInString(id); len(id) != 18 || n != 18 {
		if n == 18 {
			return IDInfo{}, "含有全角或非 ASCII 字符，请用半角数字和 X", "contains full-width or non-ASCII characters; use ASCII digits and X"
		}
		return IDInfo{}, fmt.Sprintf("应为 18 位，收到 %d 位", n), fmt.Sprintf("must have 18 characters, got %d", n)
	}
	for i := 0; i < 17; i++ {
		if id[i] < '0' || id[i] > '9' {
			return IDInfo{}, fmt.Sprintf("第 %d 位不是数字", i+1), fmt.Sprintf("character %d is not a digit", i+1)
		}
	}
	last := id[17]
	if last == 'x' {
		last = 'X'
	}
	if (last < '0' || last > '9') && last != 'X' {
		return IDInfo{}, "第 18 位（校验码）应为数字或 X", "character 18 (the check character) must be a digit or X"
	}
	birth, err := time.Parse("20060102", id[6:14])
	if err != nil || birth.After(today) || birth.Year() < 1900 {
		return IDInfo{}, fmt.Sprintf("第 7–14 位出生日期 %s 无效", id[6:14]), fmt.Sprintf("characters 7–14, the birth date %s, are not a valid date", id[6:14])
	}
	if want := IDCheckDigit(id); want != last {
		return IDInfo{}, fmt.Sprintf("校验码错误：第 18 位应为 %c，收到 %c（请核对号码是否抄错）", want, id[17]),
			fmt.Sprintf("wrong check character: character 18 should be %c, got %c (check the number for a typo)", want, id[17])
	}
	sex := "女"
	if (id[16]-'0')%2 == 1 {
		sex = "男"
	}
	return IDInfo{Birth: birth, Sex: sex}, "", ""
}

func ageOn(birth, today time.Time) int {
	a := today.Year() - birth.Year()
	if today.Month() < birth.Month() || today.Month() == birth.Month() && today.Day() < birth.Day() {
		a--
	}
	return a
}

// Limits of the form's text fields (bytes of UTF-8) and numbers.
const (
	maxName     = 64
	maxText     = 256
	maxReason   = 2000
	maxMembers  = 30
	maxAreaM2   = 10000
	maxStoreys  = 9
	maxHeightM  = 50
	maxFloorM2  = 10000
	maxHouseID  = 64
	maxCertNo   = 64
	zddmExample = "220112203301JC00001"
)

// normalize trims texts and upper-cases the ID check characters, in place.
func (f *Form) normalize() {
	tr := strings.TrimSpace
	f.VillageCode, f.HouseholdID, f.Reason = tr(f.VillageCode), tr(f.HouseholdID), tr(f.Reason)
	norm := func(p *Person) {
		p.Name, p.Sex, p.Phone, p.Hukou, p.Relation = tr(p.Name), tr(p.Sex), tr(p.Phone), tr(p.Hukou), tr(p.Relation)
		p.IDNumber = strings.ToUpper(tr(p.IDNumber))
	}
	norm(&f.Applicant)
	for i := range f.Members {
		norm(&f.Members[i])
	}
	if f.Members == nil {
		f.Members = []Person{}
	}
	if c := f.Current; c != nil {
		c.CertificateNo, c.Disposal, c.DisposalNote, c.ZDDM = tr(c.CertificateNo), tr(c.Disposal), tr(c.DisposalNote), tr(c.ZDDM)
	}
	p := &f.Proposed
	p.Address, p.East, p.South, p.West, p.North, p.LandSubclass = tr(p.Address), tr(p.East), tr(p.South), tr(p.West), tr(p.North), tr(p.LandSubclass)
}

// Validate checks every field of the form and returns all problems, each
// naming its field (form.applicant.id_number, form.members[1].name …) in
// Chinese and English; nil when the form is complete and consistent.
// today is the day of the check (for ages and birth dates). It fills the
// derived BirthDate and Age of each person.
func (f *Form) Validate(today time.Time) []*Error {
	f.normalize()
	var ps []*Error
	add := func(e *Error) { ps = append(ps, e) }
	text := func(field, v string, limit int, required bool) {
		if required && v == "" {
			add(fieldErr(field, "必填", "is required"))
			return
		}
		if ie := siting.TextProblem(field, v, limit); ie != nil {
			add(&Error{Status: 422, Code: "InvalidField", Field: field, ZH: ie.ZH, EN: ie.EN})
		}
	}
	num := func(field string, v, lo, hi float64, required bool) {
		switch {
		case math.IsNaN(v) || math.IsInf(v, 0) || v < lo || v > hi:
			add(fieldErr(field, "%g 不在 %g 到 %g 之间", "%g is not between %g and %g", v, lo, hi))
		case required && v == 0:
			add(fieldErr(field, "必填（须大于 0）", "is required (must be more than 0)"))
		}
	}
	if !villageRE.MatchString(f.VillageCode) {
		add(fieldErr("form.village_code", "%q 不是 12 位村级区划代码（如 220112203301）", "%q is not a 12-digit village code (e.g. 220112203301)", f.VillageCode))
	}
	text("form.household_id", f.HouseholdID, maxHouseID, false)
	seen := map[string]string{}
	person := func(prefix string, p *Person, head bool) {
		text(prefix+".name", p.Name, maxName, true)
		text(prefix+".hukou", p.Hukou, maxText, true)
		if head {
			if p.Sex != "男" && p.Sex != "女" {
				add(fieldErr(prefix+".sex", "应为「男」或「女」，收到 %q", "must be 男 (male) or 女 (female), got %q", p.Sex))
			}
			if !phoneRE.MatchString(p.Phone) {
				add(fieldErr(prefix+".phone", "%q 不是有效的手机号（11 位，1 开头）或带区号的固定电话", "%q is not a valid mobile (11 digits starting with 1) or landline number with area code", p.Phone))
			}
		} else {
			text(prefix+".relation", p.Relation, maxName, true)
			if p.Sex != "" && p.Sex != "男" && p.Sex != "女" {
				add(fieldErr(prefix+".sex", "应为「男」或「女」，收到 %q", "must be 男 (male) or 女 (female), got %q", p.Sex))
			}
		}
		info, zh, en := ParseID(p.IDNumber, today)
		if zh != "" {
			add(&Error{Status: 422, Code: "InvalidField", Field: prefix + ".id_number", ZH: fmt.Sprintf("字段 %s.id_number：身份证号 %q %s", prefix, p.IDNumber, zh), EN: fmt.Sprintf("field %s.id_number: ID number %q: %s", prefix, p.IDNumber, en)})
			return
		}
		if other, dup := seen[p.IDNumber]; dup {
			add(fieldErr(prefix+".id_number", "身份证号与 %s 重复", "the ID number repeats %s", other))
		}
		seen[p.IDNumber] = prefix
		if p.Sex != "" && p.Sex != info.Sex && (p.Sex == "男" || p.Sex == "女") {
			add(fieldErr(prefix+".sex", "填写为「%s」，但身份证号表明为「%s」", "says %s but the ID number says %s", p.Sex, info.Sex))
		}
		age := ageOn(info.Birth, today)
		if p.Age != 0 && p.Age != age {
			add(fieldErr(prefix+".age", "填写为 %d 岁，按身份证号出生日期 %s 应为 %d 岁", "says %d but the birth date %s of the ID number makes %d", p.Age, info.Birth.Format(time.DateOnly), age))
		}
		if p.BirthDate != "" && p.BirthDate != info.Birth.Format(time.DateOnly) {
			add(fieldErr(prefix+".birth_date", "填写为 %s，与身份证号的出生日期 %s 不符", "says %s but the ID number says %s", p.BirthDate, info.Birth.Format(time.DateOnly)))
		}
		p.Age, p.BirthDate = age, info.Birth.Format(time.DateOnly)
		if p.Sex == "" {
			p.Sex = info.Sex
		}
	}
	person("form.applicant", &f.Applicant, true)
	if f.Applicant.Age != 0 && f.Applicant.Age < 18 {
		add(fieldErr("form.applicant.age", "户主须年满 18 周岁（按身份证号为 %d 岁）", "the head of household must be 18 or older (the ID number makes %d)", f.Applicant.Age))
	}
	if len(f.Members) > maxMembers {
		add(fieldErr("form.members", "最多 %d 人，收到 %d 人", "at most %d members, got %d", maxMembers, len(f.Members)))
	} else {
		for i := range f.Members {
			person(fmt.Sprintf("form.members[%d]", i), &f.Members[i], false)
		}
	}
	if c := f.Current; c != nil {
		num("form.current.land_area_m2", c.LandAreaM2, 0, maxAreaM2, false)
		num("form.current.floor_area_m2", c.FloorAreaM2, 0, maxFloorM2, false)
		text("form.current.certificate_no", c.CertificateNo, maxCertNo, false)
		switch c.Disposal {
		case DisposalKeep:
			num("form.current.keep_m2", c.KeepM2, 0, maxAreaM2, true)
			if c.LandAreaM2 > 0 && c.KeepM2 > c.LandAreaM2 {
				add(fieldErr("form.current.keep_m2", "保留 %g 平方米，超过现宅基地面积 %g 平方米", "keeps %g m², more than the current %g m²", c.KeepM2, c.LandAreaM2))
			}
		case DisposalReturn:
		case DisposalOther:
			text("form.current.disposal_note", c.DisposalNote, maxText, true)
		default:
			add(fieldErr("form.current.disposal", "应为 keep（保留）、return（退给村集体）或 other（其他），收到 %q", "must be keep (保留), return (退给村集体) or other (其他), got %q", c.Disposal))
		}
		if c.ZDDM != "" && !zddmRE.MatchString(c.ZDDM) {
			add(fieldErr("form.current.zddm", "%q 不是 19 位宗地代码（如 %s）", "%q is not a 19-character parcel code (e.g. %s)", c.ZDDM, zddmExample))
		}
	}
	p := &f.Proposed
	num("form.proposed.housing_land_m2", p.HousingLandM2, 0, maxAreaM2, true)
	num("form.proposed.ancillary_land_m2", p.AncillaryLandM2, 0, maxAreaM2, false)
	num("form.proposed.ancillary_building_land_m2", p.AncillaryBuildingLandM2, 0, maxAreaM2, false)
	if p.AncillaryBuildingLandM2 > p.AncillaryLandM2 {
		add(fieldErr("form.proposed.ancillary_building_land_m2", "附属用房用地 %g 平方米，超过附属设施用地 %g 平方米（附属用房是附属设施的一部分）",
			"%g m² of ancillary buildings exceeds the %g m² of ancillary land it is part of", p.AncillaryBuildingLandM2, p.AncillaryLandM2))
	}
	text("form.proposed.address", p.Address, maxText, true)
	for _, b := range []struct{ n, v string }{{"east", p.East}, {"south", p.South}, {"west", p.West}, {"north", p.North}} {
		text("form.proposed."+b.n, b.v, maxText, true)
	}
	if _, ok := situationLabel[p.Situation]; !ok {
		add(fieldErr("form.proposed.situation", "建设情形应为 1（利用原宅基地建设）、2（新申请宅基地建设）或 3（改变、扩大宅基地建设），收到 %d",
			"the building situation must be 1 (on the old homestead), 2 (new homestead) or 3 (changed or enlarged homestead), got %d", p.Situation))
	}
	switch p.LandClass {
	case 1, 2:
		if p.LandSubclass != "" {
			add(fieldErr("form.proposed.land_subclass", "仅地类 3（农用地）填写，收到 %q", "is only for land class 3 (农用地), got %q", p.LandSubclass))
		}
	case 3:
		if p.LandSubclass != "耕地" && p.LandSubclass != "林地" && p.LandSubclass != "草地" && p.LandSubclass != "其它" {
			add(fieldErr("form.proposed.land_subclass", "农用地须注明 耕地、林地、草地 或 其它，收到 %q", "farm land needs 耕地, 林地, 草地 or 其它, got %q", p.LandSubclass))
		}
	default:
		add(fieldErr("form.proposed.land_class", "地类应为 1（建设用地）、2（未利用地）或 3（农用地），收到 %d", "the land class must be 1 (construction), 2 (unused) or 3 (farm land), got %d", p.LandClass))
	}
	if p.Situation == 1 && f.Current == nil {
		add(fieldErr("form.current", "建设情形 1（利用原宅基地建设）须填写现宅基地情况", "situation 1 (building on the old homestead) needs the current homestead"))
	}
	num("form.proposed.floor_area_m2", p.FloorAreaM2, 0, maxFloorM2, true)
	if p.Storeys < 1 || p.Storeys > maxStoreys {
		add(fieldErr("form.proposed.storeys", "%d 不在 1 到 %d 层之间", "%d is not between 1 and %d storeys", p.Storeys, maxStoreys))
	}
	num("form.proposed.height_m", p.HeightM, 0, maxHeightM, true)
	text("form.reason", f.Reason, maxReason, true)
	return ps
}

// idNumbers are the 身份证号 of the 户主 and every member.
func (f *Form) idNumbers() []string {
	ids := []string{f.Applicant.IDNumber}
	for _, m := range f.Members {
		ids = append(ids, m.IDNumber)
	}
	return ids
}

// fictitiousID builds a valid ID number (correct check digit) for sample
// data from a 6-digit area code, a birth date and a 3-digit sequence.
func fictitiousID(area string, birth time.Time, seq int) string {
	s := area + birth.Format("20060102") + fmt.Sprintf("%03d", seq%1000)
	return s + string(IDCheckDigit(s))
}
