package imports

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"villageplan/internal/exchange"
	"villageplan/layers"
)

// mapper maps source attribute names to layer fields and converts values
// to the fields' types, checking code lists and lengths.
type mapper struct {
	layer *layers.Layer
	// explicit maps a lower-cased source name to the field index (from
	// --map); several source names may feed one field (first non-empty
	// wins, in the order given).
	explicit map[string]int
	sources  map[int][]string // field index → source names in --map order
	mapped   map[int]bool     // fields that --map names
	set      map[int]any      // field index → converted default (--set)
	cache    map[string]int   // source name → field index, -1 ignored
	used     map[int]string   // field index → source name (for the summary)
	ignored  map[string]bool
	jzd      map[string]int // 界址点 parcel-line role → field index
	// idNames are the --map sources that name the feature's own id
	// (Feature.ID: the GeoJSON Feature "id" member, GeoPackage fid, 界址点
	// 地块编号): "@id" always, "id" where the feature has no property of
	// that name.
	idNames []string
	// completed counts, per AdminCode field, the 6- or 9-digit codes
	// completed to 12 digits, with one example.
	completed map[int]int
	example   map[int]string
}

// Source names of the feature's own identifier in --map.
const (
	idSource       = "id"
	idSourceAlways = "@id"
)

func newMapper(l *layers.Layer, maps, sets []string) (*mapper, error) {
	m := &mapper{layer: l, explicit: map[string]int{}, sources: map[int][]string{}, mapped: map[int]bool{},
		set: map[int]any{}, cache: map[string]int{}, used: map[int]string{}, ignored: map[string]bool{}, jzd: map[string]int{},
		completed: map[int]int{}, example: map[int]string{}}
	for _, s := range maps {
		src, dst, ok := strings.Cut(s, "=")
		if !ok || strings.TrimSpace(src) == "" || strings.TrimSpace(dst) == "" {
			return nil, fmt.Errorf("--map %q: write SOURCE=FIELD (several sources: a,b=FIELD)", s)
		}
		fi := m.fieldIndex(strings.TrimSpace(dst))
		if fi < 0 {
			return nil, fmt.Errorf("--map %q: layer %s has no field %q; its fields are: %s", s, l.ID, dst, fieldList(l))
		}
		m.mapped[fi] = true
		for _, name := range strings.Split(src, ",") {
			name = strings.TrimSpace(name)
			m.explicit[strings.ToLower(name)] = fi
			m.sources[fi] = append(m.sources[fi], name)
			if ln := strings.ToLower(name); ln == idSource || ln == idSourceAlways {
				m.idNames = append(m.idNames, ln)
			}
		}
	}
	for _, s := range sets {
		dst, val, ok := strings.Cut(s, "=")
		if !ok {
			return nil, fmt.Errorf("--set %q: write FIELD=VALUE", s)
		}
		fi := m.fieldIndex(strings.TrimSpace(dst))
		if fi < 0 {
			return nil, fmt.Errorf("--set %q: layer %s has no field %q; its fields are: %s", s, l.ID, dst, fieldList(l))
		}
		v, err := convertValue(l.Fields[fi], val)
		if err != nil {
			return nil, fmt.Errorf("--set %q: %v", s, err)
		}
		m.set[fi] = v
	}
	for _, role := range exchange.ParcelRoles() {
		if f, ok := exchange.ParcelField(l, role); ok {
			m.jzd[string(role)] = m.fieldIndex(f.Name)
		}
	}
	return m, nil
}

func fieldList(l *layers.Layer) string {
	var names []string
	for _, f := range l.Fields {
		n := f.Name
		if f.Code != "" && !strings.EqualFold(f.Code, f.Name) {
			n += "/" + f.Code
		}
		names = append(names, n+" ("+f.TitleZH+")")
	}
	return strings.Join(names, ", ")
}

// fieldIndex finds a layer field by name, standard code, Chinese title or
// the 10-byte DBF name that villageplan's Shapefile export gives it
// (exchange.DBFNames: APPROVAL_N for approval_number).
func (m *mapper) fieldIndex(name string) int {
	n := strings.ToLower(strings.TrimSpace(name))
	for i, f := range m.layer.Fields {
		if n == f.Name || n == strings.ToLower(f.Code) || strings.TrimSpace(name) == f.TitleZH {
			return i
		}
	}
	for i, d := range exchange.DBFNames(m.layer.Fields) {
		if strings.EqualFold(d, n) {
			return i
		}
	}
	return -1
}

// target returns the field a source attribute feeds, or -1. Explicit
// --map entries win; a field named by --map takes no automatic source;
// otherwise the name is matched against the field's name, standard code
// and Chinese title, and for 界址点 files against the parcel-line roles.
func (m *mapper) target(src string, jzdFile bool) int {
	if fi, ok := m.cache[src]; ok {
		return fi
	}
	fi := -1
	if e, ok := m.explicit[strings.ToLower(src)]; ok {
		fi = e
	} else if a := m.fieldIndex(src); a >= 0 && !m.mapped[a] {
		fi = a
	} else if r, ok := m.jzd[src]; ok && jzdFile && !m.mapped[r] {
		fi = r
	}
	m.cache[src] = fi
	if fi < 0 {
		m.ignored[src] = true
	}
	return fi
}

// featureValues converts the properties of f to one value per layer field
// (nil for none). Problems name the field and value.
func (m *mapper) featureValues(f *Feature, jzdFile bool) ([]any, []string) {
	vals := make([]any, len(m.layer.Fields))
	from := make([]int, len(m.layer.Fields)) // rank of the source that set the value
	for i := range from {
		from[i] = math.MaxInt
	}
	var problems []string
	failed := map[int]bool{}
	for src, raw := range m.props(f) {
		fi := m.target(src, jzdFile)
		if fi < 0 || raw == nil {
			continue
		}
		rank := 0
		for r, s := range m.sources[fi] {
			if strings.EqualFold(s, src) {
				rank = r
			}
		}
		if rank > from[fi] {
			continue
		}
		fld := m.layer.Fields[fi]
		v, err := convertValue(fld, raw)
		if err != nil {
			zh := err.Error()
			if ve, ok := err.(*valueError); ok {
				zh = ve.zh
			}
			problems = append(problems, fmt.Sprintf("字段 %s（%s，来源 %q）：%s / field %s (%s) from %q: %v",
				fld.Name, fld.TitleZH, src, zh, fld.Name, fld.TitleZH, src, err))
			failed[fi] = true
			continue
		}
		if v == nil {
			continue
		}
		if fld.AdminCode {
			if in := strings.TrimSpace(fmt.Sprint(raw)); in != v {
				m.completed[fi]++
				if m.example[fi] == "" {
					m.example[fi] = in + " → " + v.(string)
				}
			}
		}
		vals[fi] = v
		from[fi] = rank
		if _, seen := m.used[fi]; !seen {
			m.used[fi] = src
		}
	}
	for fi, v := range m.set {
		if vals[fi] == nil {
			vals[fi] = v
		}
	}
	for i, fld := range m.layer.Fields {
		if fld.Required && vals[i] == nil && !failed[i] {
			problems = append(problems, fmt.Sprintf("必填字段 %s（%s）没有值 / required field %s (%s) has no value: map a source field to it with --map SOURCE=%s or give a default with --set %s=VALUE",
				fld.Name, fld.TitleZH, fld.Name, fld.TitleZH, fld.Name, fld.Name))
		}
	}
	sort.Strings(problems)
	return vals, problems
}

// props returns the feature's properties, with its own id added under the
// --map names that ask for it: "@id" always, "id" only where no property
// is called id (in any case), so that a file's own "id" attribute keeps
// its meaning.
func (m *mapper) props(f *Feature) map[string]any {
	if f.ID == "" || len(m.idNames) == 0 {
		return f.Props
	}
	var out map[string]any
	for _, name := range m.idNames {
		if name == idSource {
			clash := false
			for k := range f.Props {
				if strings.EqualFold(k, idSource) {
					clash = true
					break
				}
			}
			if clash {
				continue
			}
		}
		if out == nil {
			out = make(map[string]any, len(f.Props)+2)
			for k, v := range f.Props {
				out[k] = v
			}
		}
		out[name] = f.ID
	}
	if out == nil {
		return f.Props
	}
	return out
}

// valueError is a value that a field cannot hold, in Chinese (zh) and
// English (Error).
type valueError struct{ zh, en string }

func (e *valueError) Error() string { return e.en }

func valueErrorf(zh, en string, args ...any) error {
	return &valueError{zh: fmt.Sprintf(zh, args...), en: fmt.Sprintf(en, args...)}
}

var patterns sync.Map // pattern → *regexp.Regexp

func patternRE(p string) *regexp.Regexp {
	if re, ok := patterns.Load(p); ok {
		return re.(*regexp.Regexp)
	}
	re := regexp.MustCompile(p) // validated by layers.NewCatalog
	patterns.Store(p, re)
	return re
}

// completeAdminCode completes a 6-digit GB/T 2260 county code or a 9-digit
// township code with zeros to the 12-digit 统计用区划代码 of the same unit
// (220112 → 220112000000); other values are returned unchanged.
func completeAdminCode(s string) string {
	if len(s) != 6 && len(s) != 9 {
		return s
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return s
		}
	}
	return s + strings.Repeat("0", 12-len(s))
}

// convertValue converts a source value to the Go value stored in a field
// of type fld.Type: string, int32, float64, time.Time (date) or bool; nil
// for an empty value. Code-list fields accept the value, its Chinese name or
// an alias and store the list's value. The field's rules are checked as
// the database checks them (layers.Layer.Rules): code list, length,
// pattern (administrative codes of 6 or 9 digits are first completed to
// 12) and minimum; errors are *valueError (Chinese and English).
func convertValue(fld layers.Field, raw any) (any, error) {
	var s string
	switch v := raw.(type) {
	case nil:
		return nil, nil
	case string:
		s = strings.TrimSpace(v)
	case json.Number:
		s = v.String()
	case float64:
		s = strconv.FormatFloat(v, 'f', -1, 64)
	case int64:
		s = strconv.FormatInt(v, 10)
	case int:
		s = strconv.Itoa(v)
	case bool:
		if fld.Type == layers.Bool {
			return v, nil
		}
		s = strconv.FormatBool(v)
	case time.Time:
		if fld.Type == layers.Date {
			return v, nil
		}
		s = v.Format("2006-01-02")
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		s = string(b)
	}
	if s == "" {
		return nil, nil
	}
	switch fld.Type {
	case layers.Text:
		if fld.CodeList != "" {
			cl, _ := layers.CodeListByID(fld.CodeList)
			cv, ok := cl.Lookup(s)
			if !ok {
				return nil, valueErrorf("%q 不在代码表 %s（%s）中", "%q is not in the code list %s (%s)%s", s, cl.ID, cl.TitleZH, codeExamples(cl))
			}
			s = cv.Value
		}
		if fld.AdminCode {
			s = completeAdminCode(s)
		}
		if fld.MaxLength > 0 && utf8.RuneCountInString(s) > fld.MaxLength {
			return nil, valueErrorf("%q 有 %d 个字符，该字段最多 %d 个", "%q has %d characters; the field holds at most %d", s, utf8.RuneCountInString(s), fld.MaxLength)
		}
		if fld.Pattern != "" && !patternRE(fld.Pattern).MatchString(s) {
			return nil, &valueError{zh: fmt.Sprintf("%q 不符合规则：须为%s", s, fld.PatternZH), en: fmt.Sprintf("%q breaks the rule: it must be %s", s, fld.PatternEN)}
		}
		return s, nil
	case layers.Integer:
		if n, err := strconv.ParseInt(s, 10, 32); err == nil {
			return int32(n), checkMin(fld, float64(n))
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || f != math.Trunc(f) || math.Abs(f) > math.MaxInt32 {
			return nil, valueErrorf("%q 不是整数", "%q is not a whole number", s)
		}
		return int32(f), checkMin(fld, f)
	case layers.Real:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, valueErrorf("%q 不是数值", "%q is not a number", s)
		}
		return f, checkMin(fld, f)
	case layers.Date:
		return parseDate(s)
	case layers.Bool:
		switch strings.ToLower(s) {
		case "true", "t", "yes", "y", "1", "是":
			return true, nil
		case "false", "f", "no", "n", "0", "否":
			return false, nil
		}
		return nil, valueErrorf("%q 不是是/否值", "%q is not a yes/no value (true/false, 是/否, 1/0)", s)
	}
	return s, nil
}

// checkMin applies the field's Min rule.
func checkMin(fld layers.Field, v float64) error {
	if fld.Min != nil && v < *fld.Min {
		m := strconv.FormatFloat(*fld.Min, 'f', -1, 64)
		return valueErrorf("%v 小于下限 %s %s", "%v is below the minimum %s %s", v, m, fld.Unit)
	}
	return nil
}

func codeExamples(cl *layers.CodeList) string {
	var ex []string
	for i, v := range cl.Values {
		if i == 6 {
			ex = append(ex, "…")
			break
		}
		if v.Value == v.NameZH {
			ex = append(ex, v.Value)
		} else {
			ex = append(ex, v.Value+" "+v.NameZH)
		}
	}
	return "; allowed: " + strings.Join(ex, ", ")
}

var dateLayouts = []string{"2006-01-02", "2006-1-2", "2006/01/02", "2006/1/2", "2006.01.02", "2006.1.2", "20060102",
	"2006年1月2日", time.RFC3339, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006/01/02 15:04:05"}

func parseDate(s string) (time.Time, error) {
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC), nil
		}
	}
	return time.Time{}, valueErrorf("%q 不是日期（请写作 2024-05-31）", "%q is not a date (write 2024-05-31)", s)
}

// summary returns the mapping used ("source → field") and the source
// attributes that no field took.
func (m *mapper) summary() (used map[string]string, ignored []string) {
	used = map[string]string{}
	for fi, src := range m.used {
		used[m.layer.Fields[fi].Name] = src
	}
	for fi, v := range m.set {
		if _, ok := used[m.layer.Fields[fi].Name]; !ok {
			used[m.layer.Fields[fi].Name] = fmt.Sprintf("--set %v", v)
		} else {
			used[m.layer.Fields[fi].Name] += fmt.Sprintf(" (else --set %v)", v)
		}
	}
	for s := range m.ignored {
		ignored = append(ignored, s)
	}
	sort.Strings(ignored)
	return used, ignored
}

// warnings says which administrative codes were completed to 12 digits.
func (m *mapper) warnings() []string {
	var ws []string
	for i, fld := range m.layer.Fields {
		if n := m.completed[i]; n > 0 {
			ws = append(ws, fmt.Sprintf("字段 %s（%s）：%d 个 6 位或 9 位区划代码已补零为 12 位统计用区划代码（如 %s） / field %s: %d code(s) of 6 or 9 digits completed with zeros to the 12-digit statistical division code (e.g. %s)",
				fld.Name, fld.TitleZH, n, m.example[i], fld.Name, n, m.example[i]))
		}
	}
	return ws
}
