package features

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"villageplan/geo/crs"
	"villageplan/internal/exchange"
	"villageplan/layers"
)

// CQL2 text filters (OGC API – Features Part 3, CQL2 1.0): the classes
// Basic CQL2, Advanced Comparison Operators (LIKE, BETWEEN, IN),
// Case-insensitive Comparison (CASEI) and Basic Spatial Functions
// (S_INTERSECTS with a WKT or BBOX literal). ACCENTI works only when the
// database has the unaccent extension (FilterContext.AccentI).
//
// A filter is parsed into SQL in one pass and type-checked against the
// catalog on the way, so that nothing PostgreSQL would refuse reaches it:
//
//   - comparisons, BETWEEN and IN need operands of one type: a property's
//     catalog type (text, integer, real, date, boolean) decides the type of
//     the literals beside it; integer and real mix; two literals must be of
//     the same kind (1 = 1 is a constant and allowed, 1 = '1' is not);
//   - = , <> and IN on a field with a code list take only values of that
//     list;
//   - LIKE applies to text and takes a quoted pattern (CASEI of one);
//   - DATE('YYYY-MM-DD') must be a real day and compares only with date
//     properties and DATE literals; TIMESTAMP('…Z') only with TIMESTAMP
//     literals (no property holds a time of day);
//   - WKT literals are checked: known types, 2 or 3 numbers per position
//     throughout, finite numbers, lines of ≥ 2 positions, closed polygon
//     rings of ≥ 4, and every position inside the filter CRS's domain
//     (crs.CRS.Domain: the Gauss-Krüger zone's plane area, ±180°/±90°, the
//     Web-Mercator square). PostGIS makes the literal valid (ST_MakeValid)
//     before the intersection test; a GEOMETRYCOLLECTION is tested member by
//     member (GEOS refuses collections whose members overlap) and EMPTY
//     members are left out.
//
// Property names become catalog identifiers (only the caller-visible fields
// of the layer); every literal becomes a typed bind parameter. No text of the
// filter reaches SQL. Every refusal is a *FilterError naming the offending
// span, in Chinese and English.
//
// No Go CQL2 library was available from the module proxy here
// (planetlabs/go-ogc and go-cql-text are refused), hence this parser.

// MaxFilterDepth bounds the nesting of a filter (parentheses, NOT, function
// calls, geometry collections); MaxFilterLength its size in bytes (16 KiB,
// the limit the HTTP interface documents for the filter parameter).
const (
	MaxFilterDepth  = 20
	MaxFilterLength = 16 << 10
)

// FilterError is a filter that cannot be parsed or does not fit the layer.
// Pos and End are byte offsets of the offending span in the filter text,
// Char the 1-based character (rune) position of Pos, Span that text (cut to
// 60 characters); ZH and EN say what is wrong and what to write instead.
type FilterError struct {
	Pos, End int
	Char     int
	Span     string
	ZH, EN   string
	// jsonPath: Span is the JSON path of the offending member of a
	// CQL2-JSON filter (Pos, End and Char are 0).
	jsonPath bool
}

func (e *FilterError) Error() string { return e.Chinese() + "；" + e.English() }

// Chinese is the message in Chinese with the position and span.
func (e *FilterError) Chinese() string {
	if e.jsonPath {
		return fmt.Sprintf("CQL2-JSON 的 %s：%s", e.Span, e.ZH)
	}
	if e.Span == "" {
		return fmt.Sprintf("第 %d 个字符处：%s", e.Char, e.ZH)
	}
	return fmt.Sprintf("第 %d 个字符「%s」：%s", e.Char, e.Span, e.ZH)
}

// English is the message in English with the position and span.
func (e *FilterError) English() string {
	if e.jsonPath {
		return fmt.Sprintf("at %s of the CQL2-JSON filter: %s", e.Span, e.EN)
	}
	if e.Span == "" {
		return fmt.Sprintf("at character %d: %s", e.Char, e.EN)
	}
	return fmt.Sprintf("at character %d (%q): %s", e.Char, e.Span, e.EN)
}

// ferr builds a FilterError over the byte span [pos, end).
func ferr(pos, end int, zh, en string) *FilterError {
	return &FilterError{Pos: pos, End: end, ZH: zh, EN: en}
}

// locate fills Char and Span of a FilterError from the filter text.
func locate(filter string, err error) error {
	fe, ok := err.(*FilterError)
	if !ok {
		return err
	}
	fe.Pos = min(max(fe.Pos, 0), len(filter))
	if fe.End < fe.Pos {
		fe.End = fe.Pos
	}
	fe.End = min(fe.End, len(filter))
	fe.Char = utf8.RuneCountInString(filter[:fe.Pos]) + 1
	span := filter[fe.Pos:fe.End]
	if utf8.RuneCountInString(span) > 60 {
		r := []rune(span)
		span = string(r[:60]) + "…"
	}
	fe.Span = span
	return fe
}

type tokKind int

const (
	tEOF tokKind = iota
	tIdent
	tString
	tNumber
	tOp
	tLParen
	tRParen
	tComma
	tArith // + - * / % (a sign directly before a number that follows no value is part of the number)
)

type token struct {
	kind tokKind
	text string // identifier, unquoted string value, number or operator
	pos  int    // byte offset of the first byte
	end  int    // byte offset after the last byte
}

func lex(s string) ([]token, error) {
	var out []token
	i := 0
	for i < len(s) {
		r, w := utf8.DecodeRuneInString(s[i:])
		switch {
		case unicode.IsSpace(r):
			i += w
		case r == '(':
			out = append(out, token{tLParen, "(", i, i + 1})
			i++
		case r == ')':
			out = append(out, token{tRParen, ")", i, i + 1})
			i++
		case r == ',':
			out = append(out, token{tComma, ",", i, i + 1})
			i++
		case r == '\'':
			start := i
			i++
			var b strings.Builder
			for {
				if i >= len(s) {
					return nil, ferr(start, len(s), "文本值没有用 ' 结束", "string literal is not closed with '")
				}
				if s[i] == '\'' {
					if i+1 < len(s) && s[i+1] == '\'' {
						b.WriteByte('\'')
						i += 2
						continue
					}
					i++
					break
				}
				b.WriteByte(s[i])
				i++
			}
			out = append(out, token{tString, b.String(), start, i})
		case r == '"':
			start := i
			end := strings.IndexByte(s[i+1:], '"')
			if end < 0 {
				return nil, ferr(start, len(s), "带引号的属性名没有用 \" 结束", "quoted property name is not closed with \"")
			}
			out = append(out, token{tIdent, s[i+1 : i+1+end], start, i + end + 2})
			i += end + 2
		case r == '<' || r == '>' || r == '=':
			start := i
			op := string(r)
			if i+1 < len(s) && (s[i+1] == '=' || (r == '<' && s[i+1] == '>')) {
				op += string(s[i+1])
			}
			i += len(op)
			out = append(out, token{tOp, op, start, i})
		case r == '*' || r == '/' || r == '%' || (r == '-' || r == '+') && (afterValue(out) || i+1 >= len(s) || !(s[i+1] >= '0' && s[i+1] <= '9' || s[i+1] == '.')):
			out = append(out, token{tArith, string(r), i, i + 1})
			i++
		case r == '-' || r == '+' || r == '.' || (r >= '0' && r <= '9'):
			start := i
			i++
			for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.' || s[i] == 'e' || s[i] == 'E' ||
				((s[i] == '-' || s[i] == '+') && (s[i-1] == 'e' || s[i-1] == 'E'))) {
				i++
			}
			out = append(out, token{tNumber, s[start:i], start, i})
		case unicode.IsLetter(r) || r == '_':
			start := i
			for i < len(s) {
				r2, w2 := utf8.DecodeRuneInString(s[i:])
				if !(unicode.IsLetter(r2) || unicode.IsDigit(r2) || r2 == '_' || r2 == ':' || r2 == '.') {
					break
				}
				i += w2
			}
			out = append(out, token{tIdent, s[start:i], start, i})
		default:
			return nil, ferr(i, i+w, fmt.Sprintf("不认识的字符 %q", r), fmt.Sprintf("unexpected character %q", r))
		}
	}
	return append(out, token{tEOF, "", len(s), len(s)}), nil
}

// afterValue reports whether the last token ends a value (a property, a
// literal or a closing parenthesis), after which + and - are operators
// and not signs.
func afterValue(toks []token) bool {
	if len(toks) == 0 {
		return false
	}
	switch toks[len(toks)-1].kind {
	case tIdent, tNumber, tString, tRParen:
		return true
	}
	return false
}

// FilterContext carries what the translation needs.
type FilterContext struct {
	// Fields are the properties a filter may name (the caller-visible
	// fields of the layer).
	Fields []layers.Field
	// GeometryName is the name of the geometry property in filters
	// ("geometry"; "geom" is accepted as well).
	GeometryName string
	// FilterSRID is the EPSG code of spatial literals (0 = CRS84),
	// given in the axis order of that CRS; it must be one crs.Lookup knows.
	FilterSRID int
	// MaxLength bounds the filter in bytes; 0 means MaxFilterLength.
	MaxLength int
	// AccentI is true when the database has unaccent(text) (the unaccent
	// extension), which ACCENTI(…) is translated to; otherwise ACCENTI is
	// refused.
	AccentI bool
}

// Functions lists the CQL2 functions the translator knows, for error
// messages and documentation.
func Functions(accentI bool) []string {
	f := []string{"CASEI", "DATE", "TIMESTAMP", "INTERVAL",
		"S_INTERSECTS (also INTERSECTS), S_DISJOINT, S_EQUALS, S_TOUCHES, S_OVERLAPS, S_CROSSES, S_WITHIN, S_CONTAINS",
		"S_DWITHIN(geometry, literal, distance[, 'm'|'km'])",
		"T_BEFORE, T_AFTER, T_EQUALS, T_INTERSECTS, T_DISJOINT, T_DURING (date properties, DATE and INTERVAL)",
		"BBOX/ENVELOPE and the WKT types POINT, LINESTRING, POLYGON, MULTIPOINT, MULTILINESTRING, MULTIPOLYGON, GEOMETRYCOLLECTION inside the spatial functions",
		"arithmetic + - * / % DIV on numbers"}
	if accentI {
		f = append([]string{"ACCENTI"}, f...)
	}
	return f
}

type parser struct {
	src   string
	toks  []token
	i     int
	ctx   FilterContext
	crs   crs.CRS
	args  []any
	depth int
}

// TranslateCQL2 parses a CQL2 text filter, checks it against the fields of
// ctx and returns an SQL predicate over alias t with placeholders $W1…$Wn
// (each cast to its SQL type) and their arguments (see Query.Where).
// Errors are *FilterError with the offending span located.
func TranslateCQL2(filter string, ctx FilterContext) (string, []any, error) {
	sql, args, err := translate(filter, ctx)
	if err != nil {
		return "", nil, locate(filter, err)
	}
	return sql, args, nil
}

func translate(filter string, ctx FilterContext) (string, []any, error) {
	maxLen := ctx.MaxLength
	if maxLen <= 0 {
		maxLen = MaxFilterLength
	}
	if len(filter) > maxLen {
		return "", nil, ferr(maxLen, len(filter), fmt.Sprintf("过滤条件超过 %d 字节", maxLen), fmt.Sprintf("filter longer than %d bytes", maxLen))
	}
	if i := exchange.InvalidUTF8At(filter); i >= 0 {
		return "", nil, ferr(i, i, "过滤条件不是有效的 UTF-8 文本", "filter is not valid UTF-8")
	}
	if i := strings.IndexByte(filter, 0); i >= 0 {
		return "", nil, ferr(i, i+1, "过滤条件含有 NUL 字符", "filter contains a NUL character")
	}
	toks, err := lex(filter)
	if err != nil {
		return "", nil, err
	}
	if ctx.GeometryName == "" {
		ctx.GeometryName = "geometry"
	}
	p := &parser{src: filter, toks: toks, ctx: ctx}
	if ctx.FilterSRID == 0 {
		p.crs = crs.CRS84()
	} else {
		c, ok := crs.Lookup(ctx.FilterSRID)
		if !ok {
			return "", nil, ferr(0, 0, fmt.Sprintf("不支持过滤坐标系 EPSG:%d", ctx.FilterSRID), fmt.Sprintf("filter CRS EPSG:%d is not supported", ctx.FilterSRID))
		}
		p.crs = c
	}
	sql, err := p.orExpr()
	if err != nil {
		return "", nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return "", nil, ferr(t.pos, t.end, "完整的表达式后面多出了内容", "unexpected text after a complete expression")
	}
	return sql, p.args, nil
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

// peekAt returns the token k places ahead (EOF past the end).
func (p *parser) peekAt(k int) token {
	if p.i+k < len(p.toks) {
		return p.toks[p.i+k]
	}
	return p.toks[len(p.toks)-1]
}

func (p *parser) keyword(words ...string) bool {
	t := p.peek()
	if t.kind == tIdent && strings.EqualFold(t.text, words[0]) {
		if len(words) == 2 {
			t2 := p.peekAt(1)
			if !(t2.kind == tIdent && strings.EqualFold(t2.text, words[1])) {
				return false
			}
			p.i++
		}
		p.i++
		return true
	}
	return false
}

func (p *parser) expect(k tokKind, zh, en string) (token, error) {
	t := p.next()
	if t.kind != k {
		found := t.text
		if t.kind == tEOF {
			return t, ferr(t.pos, t.end, "这里应为"+zh+"，但过滤条件已结束", "expected "+en+", found the end of the filter")
		}
		return t, ferr(t.pos, t.end, fmt.Sprintf("这里应为%s，却是 %q", zh, found), fmt.Sprintf("expected %s, found %q", en, found))
	}
	return t, nil
}

func (p *parser) arg(v any, sqlType string) string {
	p.args = append(p.args, v)
	return "$W" + strconv.Itoa(len(p.args)) + "::" + sqlType
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > MaxFilterDepth {
		t := p.peek()
		return ferr(t.pos, t.end, fmt.Sprintf("嵌套超过 %d 层", MaxFilterDepth), fmt.Sprintf("filter nested deeper than %d levels", MaxFilterDepth))
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

func (p *parser) orExpr() (string, error) {
	if err := p.enter(); err != nil {
		return "", err
	}
	defer p.leave()
	left, err := p.andExpr()
	if err != nil {
		return "", err
	}
	for p.keyword("OR") {
		right, err := p.andExpr()
		if err != nil {
			return "", err
		}
		left = "(" + left + " OR " + right + ")"
	}
	return left, nil
}

func (p *parser) andExpr() (string, error) {
	left, err := p.notExpr()
	if err != nil {
		return "", err
	}
	for p.keyword("AND") {
		right, err := p.notExpr()
		if err != nil {
			return "", err
		}
		left = "(" + left + " AND " + right + ")"
	}
	return left, nil
}

func (p *parser) notExpr() (string, error) {
	if p.keyword("NOT") {
		if err := p.enter(); err != nil {
			return "", err
		}
		defer p.leave()
		inner, err := p.notExpr()
		if err != nil {
			return "", err
		}
		return "(NOT " + inner + ")", nil
	}
	return p.predicate()
}

// typTimestamp is the type of TIMESTAMP literals (no catalog field has it).
const typTimestamp layers.FieldType = "timestamp"

type opKind int

const (
	kProp opKind = iota // a catalog property
	kLit                // a literal, not yet bound
	kExpr               // a function of properties or literals (CASEI, ACCENTI)
)

// operand is a scalar of the filter: a property, a literal or a function.
type operand struct {
	kind  opKind
	typ   layers.FieldType // the property's type, the function's result or the literal's kind
	sql   string           // kProp, kExpr
	field *layers.Field    // kProp
	val   any              // kLit: string, float64, time.Time or bool; kExpr over a literal: its string
	pos   int
	end   int
}

func (p *parser) text(o operand) string { return p.src[o.pos:o.end] }

// typeName is a type for messages, Chinese and English.
func typeName(t layers.FieldType) (string, string) {
	switch t {
	case layers.Text:
		return "文本", "text"
	case layers.Integer:
		return "整数", "integer"
	case layers.Real:
		return "数值", "number"
	case layers.Date:
		return "日期", "date"
	case layers.Bool:
		return "布尔值", "boolean"
	case typTimestamp:
		return "时间戳", "timestamp"
	}
	return string(t), string(t)
}

// describe names an operand for messages.
func (p *parser) describe(o operand) (string, string) {
	zh, en := typeName(o.typ)
	switch o.kind {
	case kProp:
		return fmt.Sprintf("%s属性 %s", zh, o.field.Name), fmt.Sprintf("the %s property %s", en, o.field.Name)
	case kExpr:
		return fmt.Sprintf("%s表达式 %s", zh, p.text(o)), fmt.Sprintf("the %s expression %s", en, p.text(o))
	}
	return fmt.Sprintf("%s值 %s", zh, p.text(o)), fmt.Sprintf("the %s value %s", en, p.text(o))
}

func numeric(t layers.FieldType) bool { return t == layers.Integer || t == layers.Real }

func compatible(a, b layers.FieldType) bool { return a == b || numeric(a) && numeric(b) }

// bindLit binds a literal with its own type.
func (p *parser) bindLit(o operand) string {
	switch o.typ {
	case layers.Text:
		return p.arg(o.val, "text")
	case layers.Real:
		return p.arg(o.val, "double precision")
	case layers.Date:
		return p.arg(o.val, "date")
	case typTimestamp:
		return p.arg(o.val, "timestamptz")
	}
	return p.arg(o.val, "boolean")
}

// typed returns the SQL of operand o used where type want is needed (want
// comes from ref, the first property or function of the expression, or
// the first literal). Literals of another kind are refused with a hint.
func (p *parser) typed(o operand, want layers.FieldType, ref operand) (string, error) {
	if o.kind != kLit {
		if !compatible(o.typ, want) {
			zh, en := p.describe(o)
			rzh, ren := p.describe(ref)
			return "", ferr(o.pos, o.end, fmt.Sprintf("%s 不能与%s 比较：类型不同", zh, rzh), fmt.Sprintf("%s cannot be compared with %s: the types differ", en, ren))
		}
		return o.sql, nil
	}
	if o.typ == want {
		return p.bindLit(o), nil
	}
	if want == layers.Integer && o.typ == layers.Real {
		x := o.val.(float64)
		if x == math.Trunc(x) && math.Abs(x) <= math.MaxInt32 {
			return p.arg(int32(x), "integer"), nil
		}
		return p.arg(x, "double precision"), nil
	}
	rzh, ren := p.describe(ref)
	src := p.text(o)
	wzh, wen := typeName(want)
	ozh, oen := typeName(o.typ)
	var hintZH, hintEN string
	switch {
	case want == layers.Text && o.typ == layers.Real:
		// 三调 codes such as DLBM are text: dlbm = 0103 is a common slip.
		hintZH, hintEN = fmt.Sprintf("；文本值要加引号：'%s'", src), fmt.Sprintf("; quote it: '%s'", src)
	case numeric(want) && o.typ == layers.Text:
		hintZH, hintEN = "；数字不加引号", "; write the number without quotes"
	case want == layers.Date && o.typ == layers.Text:
		hintZH, hintEN = "；日期写作 DATE('YYYY-MM-DD')", "; write a date as DATE('YYYY-MM-DD')"
	case want == layers.Date && o.typ == typTimestamp:
		hintZH, hintEN = "；该属性只有日期，请用 DATE('YYYY-MM-DD')", "; the property holds days, not times: use DATE('YYYY-MM-DD')"
	case want == layers.Bool:
		hintZH, hintEN = "；布尔值写作 TRUE 或 FALSE", "; write TRUE or FALSE"
	}
	return "", ferr(o.pos, o.end,
		fmt.Sprintf("%s值 %s 不能与%s 比较（需要%s）%s", ozh, src, rzh, wzh, hintZH),
		fmt.Sprintf("the %s value %s cannot be compared with %s (it needs a %s)%s", oen, src, ren, wen, hintEN))
}

// unify types a list of operands that are compared with each other
// (comparison, BETWEEN, IN) and returns their SQL. codes asks for the
// code-list check of text literals against a coded property.
func (p *parser) unify(ops []operand, codes bool) ([]string, error) {
	ref := ops[0]
	for _, o := range ops {
		if o.kind != kLit {
			ref = o
			break
		}
	}
	out := make([]string, len(ops))
	for i, o := range ops {
		s, err := p.typed(o, ref.typ, ref)
		if err != nil {
			return nil, err
		}
		if codes && o.kind == kLit && ref.kind == kProp && ref.field.CodeList != "" && o.typ == layers.Text {
			if err := p.checkCode(o, ref.field); err != nil {
				return nil, err
			}
		}
		out[i] = s
	}
	return out, nil
}

// checkCode refuses a value that is not in the code list of f (the column
// holds only list values, so such a filter is a mistake, often the Chinese
// name where the list stores a code).
func (p *parser) checkCode(o operand, f *layers.Field) error {
	cl, ok := layers.CodeListByID(f.CodeList)
	if !ok {
		return nil
	}
	s := o.val.(string)
	for _, v := range cl.Values {
		if v.Value == s {
			return nil
		}
	}
	v, ok := cl.Lookup(s)
	for _, c := range cl.Values {
		if !ok && strings.EqualFold(c.NameEN, s) {
			v, ok = c, true
		}
	}
	if ok {
		return ferr(o.pos, o.end, fmt.Sprintf("%s 在代码表 %s（%s）中存作 '%s'", s, cl.ID, cl.TitleZH, v.Value),
			fmt.Sprintf("%s is stored as '%s' in code list %s (%s)", s, v.Value, cl.ID, cl.TitleEN))
	}
	var vals []string
	for i, v := range cl.Values {
		if i == 30 {
			vals = append(vals, "…")
			break
		}
		vals = append(vals, v.Value)
	}
	return ferr(o.pos, o.end, fmt.Sprintf("%s 不是属性 %s 的代码表 %s（%s）中的值；可用的值：%s", s, f.Name, cl.ID, cl.TitleZH, strings.Join(vals, ", ")),
		fmt.Sprintf("%s is not a value of code list %s (%s) of property %s; the values are: %s", s, cl.ID, cl.TitleEN, f.Name, strings.Join(vals, ", ")))
}

func (p *parser) predicate() (string, error) {
	t := p.peek()
	if t.kind == tLParen {
		// A parenthesised condition, or the parenthesised arithmetic at the
		// start of a comparison ("(a + b) > 1"): try the condition first,
		// then read it again as a value; the error that got further wins.
		save, nargs := p.i, len(p.args)
		p.next()
		inner, err := p.orExpr()
		if err == nil {
			_, err = p.expect(tRParen, "')'", "')'")
		}
		if err == nil {
			return inner, nil
		}
		p.i, p.args = save, p.args[:nargs]
		s, err2 := p.comparison()
		if err2 == nil {
			return s, nil
		}
		if fe, ok := err.(*FilterError); ok {
			if fe2, ok2 := err2.(*FilterError); ok2 && fe2.Pos > fe.Pos {
				return "", err2
			}
		}
		return "", err
	}
	if t.kind == tIdent && p.peekAt(1).kind == tLParen {
		if pred, ok := spatialPredicates[strings.ToUpper(t.text)]; ok {
			return p.spatial(pred)
		}
		if strings.EqualFold(t.text, "S_DWITHIN") || strings.EqualFold(t.text, "DWITHIN") {
			return p.dwithin()
		}
		if op, ok := temporalPredicates[strings.ToUpper(t.text)]; ok {
			return p.temporal(op)
		}
	}
	return p.comparison()
}

// comparison reads a comparison, LIKE, BETWEEN, IN or IS NULL, or a
// boolean literal.
func (p *parser) comparison() (string, error) {
	t := p.peek()
	if t.kind == tIdent && (strings.EqualFold(t.text, "TRUE") || strings.EqualFold(t.text, "FALSE")) && p.peekAt(1).kind != tOp &&
		!isKeyword(p.peekAt(1), "IS", "NOT", "LIKE", "BETWEEN", "IN") {
		p.next()
		return strings.ToUpper(t.text), nil
	}
	left, err := p.scalar()
	if err != nil {
		return "", err
	}
	neg := p.keyword("NOT")
	not := ""
	if neg {
		not = "NOT "
	}
	switch {
	case p.keyword("LIKE"):
		return p.like(left, not)
	case p.keyword("BETWEEN"):
		lo, err := p.scalar()
		if err != nil {
			return "", err
		}
		if !p.keyword("AND") {
			n := p.peek()
			return "", ferr(n.pos, n.end, "BETWEEN 需要写成 … AND …", "BETWEEN needs … AND …")
		}
		hi, err := p.scalar()
		if err != nil {
			return "", err
		}
		sqls, err := p.unify([]operand{left, lo, hi}, false)
		if err != nil {
			return "", err
		}
		if t := opType(left, lo, hi); t == layers.Bool {
			return "", ferr(left.pos, hi.end, "BETWEEN 不能用于布尔值", "BETWEEN does not apply to booleans")
		}
		return "(" + sqls[0] + " " + not + "BETWEEN " + sqls[1] + " AND " + sqls[2] + ")", nil
	case p.keyword("IN"):
		if _, err := p.expect(tLParen, " IN 后的 '('", "'(' after IN"); err != nil {
			return "", err
		}
		ops := []operand{left}
		for {
			v, err := p.scalar()
			if err != nil {
				return "", err
			}
			ops = append(ops, v)
			if p.peek().kind == tComma {
				p.next()
				continue
			}
			break
		}
		if _, err := p.expect(tRParen, "结束 IN 列表的 ')'", "')' closing the IN list"); err != nil {
			return "", err
		}
		sqls, err := p.unify(ops, true)
		if err != nil {
			return "", err
		}
		return "(" + sqls[0] + " " + not + "IN (" + strings.Join(sqls[1:], ", ") + "))", nil
	}
	if neg {
		n := p.peek()
		return "", ferr(n.pos, n.end, "这里的 NOT 后面应为 LIKE、BETWEEN 或 IN", "NOT here must be followed by LIKE, BETWEEN or IN")
	}
	if p.keyword("IS") {
		n := p.keyword("NOT")
		if !p.keyword("NULL") {
			x := p.peek()
			return "", ferr(x.pos, x.end, "IS 后面应为 NULL", "expected NULL after IS")
		}
		s := left.sql
		if left.kind == kLit {
			s = p.bindLit(left)
		}
		if n {
			return "(" + s + " IS NOT NULL)", nil
		}
		return "(" + s + " IS NULL)", nil
	}
	op := p.next()
	if op.kind != tOp {
		return "", ferr(op.pos, op.end, fmt.Sprintf("这里应为比较运算（=、<>、<、>、<=、>=、LIKE、BETWEEN、IN、IS NULL），却是 %q", op.text),
			fmt.Sprintf("expected a comparison (=, <>, <, >, <=, >=, LIKE, BETWEEN, IN, IS NULL), found %q", op.text))
	}
	if op.text == "=<" || op.text == "=>" || op.text == "==" {
		return "", ferr(op.pos, op.end, fmt.Sprintf("没有运算符 %s", op.text), fmt.Sprintf("there is no operator %s", op.text))
	}
	right, err := p.scalar()
	if err != nil {
		return "", err
	}
	sqls, err := p.unify([]operand{left, right}, op.text == "=" || op.text == "<>")
	if err != nil {
		return "", err
	}
	return "(" + sqls[0] + " " + op.text + " " + sqls[1] + ")", nil
}

// opType is the type the operands of one comparison share (that of the
// first non-literal, else of the first literal).
func opType(ops ...operand) layers.FieldType {
	for _, o := range ops {
		if o.kind != kLit {
			return o.typ
		}
	}
	return ops[0].typ
}

func isKeyword(t token, words ...string) bool {
	if t.kind != tIdent {
		return false
	}
	for _, w := range words {
		if strings.EqualFold(t.text, w) {
			return true
		}
	}
	return false
}

// like translates left [NOT] LIKE pattern: text on the left, a quoted
// pattern (or CASEI/ACCENTI of one) on the right; % and _ are the
// wildcards and \ escapes them.
func (p *parser) like(left operand, not string) (string, error) {
	if left.typ != layers.Text {
		zh, en := p.describe(left)
		return "", ferr(left.pos, left.end, fmt.Sprintf("LIKE 只适用于文本，%s不是文本", zh), fmt.Sprintf("LIKE needs text; %s is not text", en))
	}
	pat, err := p.scalar()
	if err != nil {
		return "", err
	}
	s, isText := pat.val.(string)
	if pat.typ != layers.Text || !isText {
		return "", ferr(pat.pos, pat.end, "LIKE 的模式应为带引号的文本，如 '大营%'", "LIKE needs a quoted pattern such as '大营%'")
	}
	if n := len(s) - len(strings.TrimRight(s, `\`)); n%2 == 1 {
		return "", ferr(pat.pos, pat.end, `LIKE 模式以单个转义符 \ 结尾；要匹配 \ 请写 \\`, `the LIKE pattern ends with a lone escape character \; write \\ to match a backslash`)
	}
	ls := left.sql
	if left.kind == kLit {
		ls = p.bindLit(left)
	}
	ps := pat.sql
	if pat.kind == kLit {
		ps = p.bindLit(pat)
	}
	return "(" + ls + " " + not + "LIKE " + ps + ")", nil
}

// scalar reads an arithmetic expression (CQL2 Arithmetic: + - * / % DIV
// over numeric operands, with parentheses and unary minus) or a single
// primary. The arithmetic is evaluated in double precision; division and
// remainder by zero give NULL, so the comparison is not true (never an
// SQL error).
func (p *parser) scalar() (operand, error) {
	left, err := p.term()
	if err != nil {
		return operand{}, err
	}
	for t := p.peek(); t.kind == tArith && (t.text == "+" || t.text == "-"); t = p.peek() {
		p.next()
		right, err := p.term()
		if err != nil {
			return operand{}, err
		}
		if left, err = p.arith(left, t.text, right); err != nil {
			return operand{}, err
		}
	}
	return left, nil
}

func (p *parser) term() (operand, error) {
	left, err := p.factor()
	if err != nil {
		return operand{}, err
	}
	for {
		t := p.peek()
		op := ""
		switch {
		case t.kind == tArith && (t.text == "*" || t.text == "/" || t.text == "%"):
			op = t.text
		case isKeyword(t, "DIV") && p.peekAt(1).kind != tOp:
			op = "DIV"
		default:
			return left, nil
		}
		p.next()
		right, err := p.factor()
		if err != nil {
			return operand{}, err
		}
		if left, err = p.arith(left, op, right); err != nil {
			return operand{}, err
		}
	}
}

func (p *parser) factor() (operand, error) {
	t := p.peek()
	switch {
	case t.kind == tArith && (t.text == "-" || t.text == "+"):
		p.next()
		if err := p.enter(); err != nil {
			return operand{}, err
		}
		defer p.leave()
		f, err := p.factor()
		if err != nil {
			return operand{}, err
		}
		if !numeric(f.typ) {
			zh, en := p.describe(f)
			return operand{}, ferr(t.pos, f.end, fmt.Sprintf("正负号只适用于数值，%s不是数值", zh), fmt.Sprintf("a sign applies to numbers; %s is not a number", en))
		}
		s := f.sql
		if f.kind == kLit {
			s = p.arg(f.val, "double precision")
		}
		if t.text == "+" {
			return operand{kind: kExpr, typ: f.typ, sql: s, pos: t.pos, end: f.end}, nil
		}
		return operand{kind: kExpr, typ: layers.Real, sql: "(-" + s + "::double precision)", pos: t.pos, end: f.end}, nil
	case t.kind == tLParen:
		p.next()
		if err := p.enter(); err != nil {
			return operand{}, err
		}
		defer p.leave()
		e, err := p.scalar()
		if err != nil {
			return operand{}, err
		}
		c, err := p.expect(tRParen, "')'", "')'")
		if err != nil {
			return operand{}, err
		}
		e.pos, e.end = t.pos, c.end
		return e, nil
	}
	return p.primary()
}

// arith combines two numeric operands with an arithmetic operator.
func (p *parser) arith(l operand, op string, r operand) (operand, error) {
	for _, o := range []operand{l, r} {
		if !numeric(o.typ) {
			zh, en := p.describe(o)
			return operand{}, ferr(o.pos, o.end, fmt.Sprintf("算术运算 %s 只适用于数值，%s不是数值", op, zh), fmt.Sprintf("arithmetic (%s) applies to numbers; %s is not a number", op, en))
		}
	}
	side := func(o operand) string {
		if o.kind == kLit {
			return p.arg(o.val, "double precision")
		}
		return o.sql + "::double precision"
	}
	ls, rs := side(l), side(r)
	var s string
	switch op {
	case "/":
		s = "(" + ls + " / NULLIF(" + rs + ", 0))"
	case "%":
		s = "(" + ls + " - NULLIF(" + rs + ", 0) * trunc(" + ls + " / NULLIF(" + rs + ", 0)))"
	case "DIV":
		s = "trunc(" + ls + " / NULLIF(" + rs + ", 0))"
	default:
		s = "(" + ls + " " + op + " " + rs + ")"
	}
	return operand{kind: kExpr, typ: layers.Real, sql: s, pos: l.pos, end: r.end}, nil
}

// primary reads a property name, a literal or a function call.
func (p *parser) primary() (operand, error) {
	t := p.next()
	switch t.kind {
	case tIdent:
		up := strings.ToUpper(t.text)
		if p.peek().kind == tLParen && !strings.HasPrefix(p.src[t.pos:], `"`) {
			return p.function(t, up)
		}
		switch up {
		case "TRUE", "FALSE":
			return operand{kind: kLit, typ: layers.Bool, val: up == "TRUE", pos: t.pos, end: t.end}, nil
		case "NULL":
			return operand{}, ferr(t.pos, t.end, "与 NULL 比较请写 IS NULL 或 IS NOT NULL", "to compare with NULL write IS NULL or IS NOT NULL")
		}
		if strings.EqualFold(t.text, p.ctx.GeometryName) || strings.EqualFold(t.text, "geom") {
			return operand{}, ferr(t.pos, t.end, "几何属性只能用在 S_INTERSECTS(…) 中", "the geometry property can only be used in S_INTERSECTS(…)")
		}
		for i := range p.ctx.Fields {
			f := &p.ctx.Fields[i]
			if f.Name == t.text || strings.EqualFold(f.Code, t.text) && f.Code != "" {
				return operand{kind: kProp, sql: "t." + layers.QuoteIdent(f.Name), typ: f.Type, field: f, pos: t.pos, end: t.end}, nil
			}
		}
		names := make([]string, 0, len(p.ctx.Fields))
		for _, f := range p.ctx.Fields {
			names = append(names, f.Name)
		}
		return operand{}, ferr(t.pos, t.end,
			fmt.Sprintf("%q 不是本图层可查询的属性；可查询的属性：%s", t.text, strings.Join(names, ", ")),
			fmt.Sprintf("%q is not a queryable property of this collection; the queryable properties are: %s", t.text, strings.Join(names, ", ")))
	case tString:
		return operand{kind: kLit, typ: layers.Text, val: t.text, pos: t.pos, end: t.end}, nil
	case tNumber:
		x, err := strconv.ParseFloat(t.text, 64)
		if err != nil || math.IsInf(x, 0) || math.IsNaN(x) {
			return operand{}, ferr(t.pos, t.end, fmt.Sprintf("%q 不是有限的数字", t.text), fmt.Sprintf("%q is not a finite number", t.text))
		}
		return operand{kind: kLit, typ: layers.Real, val: x, pos: t.pos, end: t.end}, nil
	case tEOF:
		return operand{}, ferr(t.pos, t.end, "这里应为属性或值，但过滤条件已结束", "expected a property or a value, found the end of the filter")
	}
	return operand{}, ferr(t.pos, t.end, fmt.Sprintf("这里应为属性或值，却是 %q", t.text), fmt.Sprintf("expected a property or a value, found %q", t.text))
}

// function reads NAME( … ) in a value position: DATE, TIMESTAMP, CASEI,
// ACCENTI. Any other name is refused with the list of functions.
func (p *parser) function(t token, up string) (operand, error) {
	switch up {
	case "DATE", "TIMESTAMP":
		p.next()
		s, err := p.expect(tString, "带引号的日期", "a quoted date")
		if err != nil {
			return operand{}, err
		}
		c, err := p.expect(tRParen, "')'", "')'")
		if err != nil {
			return operand{}, err
		}
		if up == "DATE" {
			d, err := time.Parse("2006-01-02", s.text)
			if err != nil {
				return operand{}, ferr(s.pos, s.end, fmt.Sprintf("%q 不是有效日期（YYYY-MM-DD）", s.text), fmt.Sprintf("%q is not a valid date (YYYY-MM-DD)", s.text))
			}
			return operand{kind: kLit, typ: layers.Date, val: d, pos: t.pos, end: c.end}, nil
		}
		d, err := time.Parse(time.RFC3339, s.text)
		if err != nil || d.Year() < 1 {
			return operand{}, ferr(s.pos, s.end, fmt.Sprintf("%q 不是有效时间戳（如 2020-01-01T08:00:00Z）", s.text), fmt.Sprintf("%q is not a valid timestamp (such as 2020-01-01T08:00:00Z)", s.text))
		}
		return operand{kind: kLit, typ: typTimestamp, val: d, pos: t.pos, end: c.end}, nil
	case "CASEI", "ACCENTI":
		if up == "ACCENTI" && !p.ctx.AccentI {
			return operand{}, ferr(t.pos, t.end, "本服务器的数据库没有 unaccent 扩展，不能使用 ACCENTI；请用 CASEI 或直接比较",
				"ACCENTI is not available: the database of this server has no unaccent extension; use CASEI or a plain comparison")
		}
		if err := p.enter(); err != nil {
			return operand{}, err
		}
		defer p.leave()
		p.next()
		in, err := p.scalar()
		if err != nil {
			return operand{}, err
		}
		c, err := p.expect(tRParen, fmt.Sprintf("结束 %s 的 ')'", up), fmt.Sprintf("')' closing %s", up))
		if err != nil {
			return operand{}, err
		}
		if in.typ != layers.Text {
			zh, en := p.describe(in)
			return operand{}, ferr(in.pos, in.end, fmt.Sprintf("%s 只适用于文本，%s不是文本", up, zh), fmt.Sprintf("%s needs text; %s is not text", up, en))
		}
		s := in.sql
		if in.kind == kLit {
			s = p.bindLit(in)
		}
		fn := "lower"
		if up == "ACCENTI" {
			fn = "unaccent"
		}
		return operand{kind: kExpr, typ: layers.Text, sql: fn + "(" + s + ")", val: in.val, pos: t.pos, end: c.end}, nil
	}
	if _, ok := spatialPredicates[up]; ok || temporalPredicates[up] != "" || up == "S_DWITHIN" || up == "DWITHIN" {
		return operand{}, ferr(t.pos, t.end, up+" 是条件而不是值，不能放在比较中", up+" is a condition, not a value: it cannot be compared")
	}
	fs := strings.Join(Functions(p.ctx.AccentI), "; ")
	return operand{}, ferr(t.pos, t.end, fmt.Sprintf("未知函数 %s；可用的函数：%s", t.text, fs), fmt.Sprintf("unknown function %s; the functions are: %s", t.text, fs))
}

// spatialPred is a CQL2 spatial predicate (Basic and Spatial Functions
// classes) and the PostGIS function that decides it.
type spatialPred struct {
	name  string // the CQL2 name, for messages
	fn    string // ST_… (arguments in CQL2 order)
	empty string // the answer with an EMPTY literal
}

var spatialPredicates = map[string]spatialPred{
	"S_INTERSECTS": {"S_INTERSECTS", "ST_Intersects", "FALSE"}, "INTERSECTS": {"S_INTERSECTS", "ST_Intersects", "FALSE"},
	"S_DISJOINT": {"S_DISJOINT", "ST_Disjoint", "TRUE"},
	"S_EQUALS":   {"S_EQUALS", "ST_Equals", "FALSE"},
	"S_TOUCHES":  {"S_TOUCHES", "ST_Touches", "FALSE"},
	"S_OVERLAPS": {"S_OVERLAPS", "ST_Overlaps", "FALSE"},
	"S_CROSSES":  {"S_CROSSES", "ST_Crosses", "FALSE"},
	"S_WITHIN":   {"S_WITHIN", "ST_Within", "FALSE"},
	"S_CONTAINS": {"S_CONTAINS", "ST_Contains", "FALSE"},
}

// geometryArg reads one geometry argument of a spatial function: the
// geometry property (nil, true) or a literal (its members).
func (p *parser) geometryArg() (members []string, isProp bool, err error) {
	g := p.peek()
	if g.kind == tIdent && (strings.EqualFold(g.text, p.ctx.GeometryName) || strings.EqualFold(g.text, "geom")) {
		p.next()
		return nil, true, nil
	}
	members, err = p.geometryLiteral()
	return append([]string{}, members...), false, err
}

// spatial translates S_INTERSECTS(a, b) and the other spatial predicates,
// each argument the geometry property or a geometry literal. Only
// S_INTERSECTS takes a GEOMETRYCOLLECTION literal (tested member by
// member: GEOS refuses relate operations on collections).
func (p *parser) spatial(pred spatialPred) (string, error) {
	fn := p.next()
	p.next() // (
	var lits [2][]string
	var props [2]bool
	for i := range lits {
		if i == 1 {
			if _, err := p.expect(tComma, "','", "','"); err != nil {
				return "", err
			}
		}
		start := p.peek()
		m, isProp, err := p.geometryArg()
		if err != nil {
			return "", err
		}
		if pred.fn != "ST_Intersects" && len(m) > 1 {
			end := p.toks[p.i-1].end
			return "", ferr(start.pos, end, fmt.Sprintf("%s 不接受 GEOMETRYCOLLECTION；请用 MULTIPOINT、MULTILINESTRING 或 MULTIPOLYGON", pred.name),
				fmt.Sprintf("%s does not take a GEOMETRYCOLLECTION; use a MULTIPOINT, MULTILINESTRING or MULTIPOLYGON", pred.name))
		}
		lits[i], props[i] = m, isProp
	}
	if _, err := p.expect(tRParen, fmt.Sprintf("结束 %s 的 ')'", pred.name), fmt.Sprintf("')' closing %s", pred.name)); err != nil {
		return "", err
	}
	_ = fn
	for i := range lits {
		if !props[i] && len(lits[i]) == 0 {
			return pred.empty, nil // an EMPTY literal
		}
	}
	arg := func(i int) string {
		if props[i] {
			return "t.geom"
		}
		return lits[i][0]
	}
	if pred.fn != "ST_Intersects" {
		return "(" + pred.fn + "(" + arg(0) + ", " + arg(1) + "))", nil
	}
	if props[0] {
		lits[0], lits[1], props[0], props[1] = lits[1], lits[0], props[1], props[0]
	}
	switch {
	case props[0] && props[1]:
		// A geometry intersects itself unless it is empty.
		return "(NOT ST_IsEmpty(t.geom))", nil
	case props[1]:
		// One test per member of the literal: a collection's members may
		// overlap each other, which GEOS refuses (TopologyException).
		terms := make([]string, len(lits[0]))
		for i, m := range lits[0] {
			terms[i] = "(t.geom && " + m + " AND ST_Intersects(t.geom, " + m + "))"
		}
		if len(terms) == 1 {
			return terms[0], nil
		}
		return "(" + strings.Join(terms, " OR ") + ")", nil
	}
	return "EXISTS (SELECT 1 FROM ST_Dump(ST_Collect(ARRAY[" + strings.Join(lits[0], ", ") + "])) a, ST_Dump(ST_Collect(ARRAY[" +
		strings.Join(lits[1], ", ") + "])) b WHERE ST_Intersects(a.geom, b.geom))", nil
}

// MaxDWithinMetres bounds the distance of S_DWITHIN (100 km, beyond any
// question about one township).
const MaxDWithinMetres = 100000

// dwithin translates S_DWITHIN(geometry, literal, distance[, unit]): the
// features within distance of the literal, measured on the CGCS2000
// ellipsoid (PostGIS geography), in metres ('m', 'metre(s)', 'meter(s)')
// or kilometres ('km', 'kilometre(s)', 'kilometer(s)'); metres when no
// unit is given. A bounding-box test in degrees, widened for the latitude,
// comes first so that the spatial index is used.
func (p *parser) dwithin() (string, error) {
	fn := p.next()
	p.next() // (
	m, isProp, err := p.geometryArg()
	if err != nil {
		return "", err
	}
	if !isProp {
		return "", ferr(fn.pos, p.toks[p.i-1].end, "S_DWITHIN 的第一个参数应为几何属性 geometry", "the first argument of S_DWITHIN must be the geometry property")
	}
	if _, err := p.expect(tComma, "','", "','"); err != nil {
		return "", err
	}
	if m, _, err = p.geometryArg(); err != nil {
		return "", err
	}
	if _, err := p.expect(tComma, "','", "','"); err != nil {
		return "", err
	}
	dt, err := p.expect(tNumber, "距离（米）", "a distance (metres)")
	if err != nil {
		return "", err
	}
	d, perr := strconv.ParseFloat(dt.text, 64)
	unit := 1.0
	if p.peek().kind == tComma {
		p.next()
		u, err := p.expect(tString, "单位 'm' 或 'km'", "a unit 'm' or 'km'")
		if err != nil {
			return "", err
		}
		switch strings.ToLower(u.text) {
		case "m", "metre", "metres", "meter", "meters":
		case "km", "kilometre", "kilometres", "kilometer", "kilometers":
			unit = 1000
		default:
			return "", ferr(u.pos, u.end, "距离单位只能是 'm'（米）或 'km'（千米）", "the distance unit must be 'm' (metres) or 'km' (kilometres)")
		}
	}
	d *= unit
	if perr != nil || math.IsNaN(d) || d < 0 || d > MaxDWithinMetres {
		return "", ferr(dt.pos, dt.end, fmt.Sprintf("距离应在 0 到 %d 米之间", MaxDWithinMetres), fmt.Sprintf("the distance must be between 0 and %d metres", MaxDWithinMetres))
	}
	if _, err := p.expect(tRParen, "结束 S_DWITHIN 的 ')'", "')' closing S_DWITHIN"); err != nil {
		return "", err
	}
	if len(m) == 0 {
		return "FALSE", nil
	}
	terms := make([]string, len(m))
	for i, g := range m {
		ds := p.arg(d, "double precision")
		// dy: degrees of latitude (≥ 110.5 km each); dx: of longitude at the
		// highest latitude the box reaches.
		dy := "(" + ds + " / 110000.0)"
		dx := "(" + ds + " / (111320.0 * cos(radians(LEAST(89.0, GREATEST(abs(ST_YMin(" + g + ")), abs(ST_YMax(" + g + "))) + " + dy + ")))))"
		terms[i] = "(t.geom && ST_Expand(" + g + ", " + dx + ", " + dy + ") AND ST_DWithin(t.geom::geography, (" + g + ")::geography, " + ds + "))"
	}
	if len(terms) == 1 {
		return terms[0], nil
	}
	return "(" + strings.Join(terms, " OR ") + ")", nil
}

// temporalPredicates maps the CQL2 temporal functions this translator
// decides for date properties (instants) to their kind.
var temporalPredicates = map[string]string{
	"T_BEFORE": "before", "T_AFTER": "after", "T_EQUALS": "equals", "T_INTERSECTS": "intersects", "T_DISJOINT": "disjoint", "T_DURING": "during",
}

// temporalArg is an argument of a temporal function: an instant (a date
// property or DATE literal) or INTERVAL(start, end) with '..' for an open
// end.
type temporalArg struct {
	// instant, lo and hi bind their value where they are used (nil: an
	// open end), so that no parameter is bound that the SQL leaves out.
	instant  func() string
	lo, hi   func() string
	interval bool
}

// dateSQL binds a value, or returns the SQL of a property, on each use.
func (p *parser) dateSQL(o operand) func() string {
	if o.kind == kLit {
		return func() string { return p.bindLit(o) }
	}
	return func() string { return o.sql }
}

func (p *parser) temporalArg() (temporalArg, error) {
	t := p.peek()
	if isKeyword(t, "INTERVAL") && p.peekAt(1).kind == tLParen {
		p.next()
		p.next()
		a := temporalArg{interval: true}
		for i := 0; i < 2; i++ {
			if i == 1 {
				if _, err := p.expect(tComma, "','", "','"); err != nil {
					return a, err
				}
			}
			var end func() string
			n := p.peek()
			switch {
			case n.kind == tString && n.text == "..":
				p.next()
			case n.kind == tString:
				p.next()
				d, err := time.Parse("2006-01-02", n.text)
				if err != nil {
					return a, ferr(n.pos, n.end, fmt.Sprintf("%q 不是有效日期（YYYY-MM-DD，或 '..' 表示不限）", n.text), fmt.Sprintf("%q is not a valid date (YYYY-MM-DD, or '..' for an open end)", n.text))
				}
				end = p.dateSQL(operand{kind: kLit, typ: layers.Date, val: d})
			default:
				o, err := p.scalar()
				if err != nil {
					return a, err
				}
				if o.typ != layers.Date {
					zh, en := p.describe(o)
					return a, ferr(o.pos, o.end, fmt.Sprintf("INTERVAL 的端点应为日期，%s不是日期", zh), fmt.Sprintf("the ends of an INTERVAL are dates; %s is not a date", en))
				}
				end = p.dateSQL(o)
			}
			if i == 0 {
				a.lo = end
			} else {
				a.hi = end
			}
		}
		_, err := p.expect(tRParen, "结束 INTERVAL 的 ')'", "')' closing INTERVAL")
		return a, err
	}
	o, err := p.scalar()
	if err != nil {
		return temporalArg{}, err
	}
	if o.typ != layers.Date {
		zh, en := p.describe(o)
		return temporalArg{}, ferr(o.pos, o.end, fmt.Sprintf("时间函数的参数应为日期属性、DATE('…') 或 INTERVAL(…)，%s不是", zh),
			fmt.Sprintf("a temporal function takes a date property, DATE('…') or INTERVAL(…); %s is neither", en))
	}
	return temporalArg{instant: p.dateSQL(o)}, nil
}

// temporal translates T_BEFORE, T_AFTER, T_EQUALS, T_INTERSECTS,
// T_DISJOINT and T_DURING between instants (date properties, DATE
// literals) and intervals (INTERVAL(start, end), ends included, '..' open).
// An instant is during an interval when it lies strictly inside it. A NULL
// date satisfies none of them.
func (p *parser) temporal(kind string) (string, error) {
	fn := p.next()
	p.next() // (
	a, err := p.temporalArg()
	if err != nil {
		return "", err
	}
	if _, err := p.expect(tComma, "','", "','"); err != nil {
		return "", err
	}
	b, err := p.temporalArg()
	if err != nil {
		return "", err
	}
	c, err := p.expect(tRParen, fmt.Sprintf("结束 %s 的 ')'", strings.ToUpper(fn.text)), fmt.Sprintf("')' closing %s", strings.ToUpper(fn.text)))
	if err != nil {
		return "", err
	}
	if a.interval && b.interval {
		return "", ferr(fn.pos, c.end, "两个 INTERVAL 之间的时间关系不受支持：属性都是日期（时刻）", "relations between two intervals are not supported: the properties are dates (instants)")
	}
	swapped := false
	if a.interval { // put the instant first: T_BEFORE(I, x) is x after I
		a, b, swapped = b, a, true
	}
	x := a.instant
	cmp := func(op string, y func() string) string { return "(" + x() + " " + op + " " + y() + ")" }
	if !b.interval {
		y := b.instant
		switch kind {
		case "before":
			if swapped {
				return cmp(">", y), nil
			}
			return cmp("<", y), nil
		case "after":
			if swapped {
				return cmp("<", y), nil
			}
			return cmp(">", y), nil
		case "equals", "intersects":
			return cmp("=", y), nil
		case "disjoint":
			return cmp("<>", y), nil
		case "during":
			return "FALSE", nil // an instant is never strictly inside another
		}
	}
	within := func(strict bool) string {
		var t []string
		lo, hi := ">=", "<="
		if strict {
			lo, hi = ">", "<"
		}
		if b.lo != nil {
			t = append(t, cmp(lo, b.lo))
		}
		if b.hi != nil {
			t = append(t, cmp(hi, b.hi))
		}
		if len(t) == 0 {
			return "(" + x() + " IS NOT NULL)"
		}
		return "(" + strings.Join(t, " AND ") + ")"
	}
	// The instant before / after the interval, built where used.
	before := func() string {
		if b.lo == nil {
			return "FALSE"
		}
		return cmp("<", b.lo)
	}
	after := func() string {
		if b.hi == nil {
			return "FALSE"
		}
		return cmp(">", b.hi)
	}
	switch kind {
	case "before":
		if swapped {
			return after(), nil
		}
		return before(), nil
	case "after":
		if swapped {
			return before(), nil
		}
		return after(), nil
	case "intersects":
		return within(false), nil
	case "disjoint":
		return "(" + before() + " OR " + after() + ")", nil
	case "during":
		if swapped {
			return "FALSE", nil // an interval is never during an instant
		}
		return within(true), nil
	}
	return "FALSE", nil // equals: an instant never equals an interval
}

// wkt accumulates a geometry literal: its normalised WKT text and the
// number of values per position.
type wkt struct {
	b   strings.Builder
	dim int
	z   bool      // Z was written
	out *[]string // the SQL of each non-empty member, collections flattened
}

// geometryLiteral reads a WKT geometry or BBOX(…)/ENVELOPE(…), checks it
// and returns SQL that builds each of its members, valid, in EPSG:4490: a
// geometry collection is flattened into its members, EMPTY geometries are
// left out (an empty member in a collection crashes ST_UnaryUnion of
// PostGIS 3.3/GEOS 3.11; none reaches PostGIS).
func (p *parser) geometryLiteral() ([]string, error) {
	t := p.peek()
	if t.kind != tIdent {
		return nil, ferr(t.pos, t.end, "这里应为几何属性、WKT 几何或 BBOX(…)", "expected the geometry property, a WKT geometry or BBOX(…)")
	}
	kind := strings.ToUpper(t.text)
	if kind == "BBOX" || kind == "ENVELOPE" {
		g, err := p.bbox()
		return []string{g}, err
	}
	var members []string
	w := &wkt{out: &members}
	if err := p.wktGeometry(w, 0); err != nil {
		return nil, err
	}
	p.addMember(w)
	return members, nil
}

// addMember adds the geometry in w to its list unless it is empty (or a
// collection, whose members are there already).
func (p *parser) addMember(w *wkt) {
	if g := w.b.String(); g != "" && !strings.HasSuffix(g, " EMPTY") {
		*w.out = append(*w.out, p.wktSQL(g))
	}
}

func (p *parser) bbox() (string, error) {
	t := p.next()
	kind := strings.ToUpper(t.text)
	if _, err := p.expect(tLParen, "'('", "'('"); err != nil {
		return "", err
	}
	var n []float64
	var toks []token
	for {
		num, err := p.expect(tNumber, "数字", "a number")
		if err != nil {
			return "", err
		}
		x, err := strconv.ParseFloat(num.text, 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			return "", ferr(num.pos, num.end, fmt.Sprintf("%q 不是有限的数字", num.text), fmt.Sprintf("%q is not a finite number", num.text))
		}
		n = append(n, x)
		toks = append(toks, num)
		if p.peek().kind == tComma {
			p.next()
			continue
		}
		break
	}
	c, err := p.expect(tRParen, "')'", "')'")
	if err != nil {
		return "", err
	}
	if len(n) != 4 && len(n) != 6 {
		return "", ferr(t.pos, c.end, fmt.Sprintf("%s 需要 4 个数（或带高程的 6 个），这里有 %d 个", kind, len(n)), fmt.Sprintf("%s needs 4 numbers (or 6 with heights), got %d", kind, len(n)))
	}
	if len(n) == 6 {
		if kind == "ENVELOPE" {
			return "", ferr(t.pos, c.end, "ENVELOPE 需要 4 个数", "ENVELOPE needs 4 numbers")
		}
		n = []float64{n[0], n[1], n[3], n[4]}
	}
	if kind == "ENVELOPE" { // ENVELOPE(minx, maxx, maxy, miny)
		n = []float64{n[0], n[3], n[1], n[2]}
	}
	if n[0] > n[2] || n[1] > n[3] {
		return "", ferr(t.pos, c.end, "左下角的坐标大于右上角的坐标", "the lower corner lies above or right of the upper corner")
	}
	for _, corner := range [][2]float64{{n[0], n[1]}, {n[2], n[3]}} {
		if err := p.inDomain(corner[0], corner[1], t.pos, c.end); err != nil {
			return "", err
		}
	}
	f := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	wktText := "POLYGON((" + f(n[0]) + " " + f(n[1]) + "," + f(n[2]) + " " + f(n[1]) + "," + f(n[2]) + " " + f(n[3]) + "," +
		f(n[0]) + " " + f(n[3]) + "," + f(n[0]) + " " + f(n[1]) + "))"
	return p.wktSQL(wktText), nil
}

// inDomain checks a position given in the filter CRS's axis order.
func (p *parser) inDomain(a1, a2 float64, pos, end int) error {
	east, north := a1, a2
	if p.crs.Axis == crs.NorthEast {
		east, north = a2, a1
	}
	d := p.crs.Domain()
	if d.Contains(east, north) {
		return nil
	}
	first, second := "东坐标/经度", "北坐标/纬度"
	firstEN, secondEN := "east", "north"
	lo1, hi1, lo2, hi2 := d.MinEast, d.MaxEast, d.MinNorth, d.MaxNorth
	if p.crs.Axis == crs.NorthEast {
		first, second, firstEN, secondEN = second, first, secondEN, firstEN
		lo1, hi1, lo2, hi2 = lo2, hi2, lo1, hi1
	}
	g := func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
	r := func(x float64) string { return strconv.FormatFloat(x, 'f', 0, 64) }
	if d.Unit == "°" {
		r = g
	}
	return ferr(pos, end,
		fmt.Sprintf("位置 (%s %s) 不在过滤坐标系 %s 的有效范围内（第一轴%s %s…%s %s，第二轴%s %s…%s %s）", g(a1), g(a2), p.crs, first, r(lo1), r(hi1), d.Unit, second, r(lo2), r(hi2), d.Unit),
		fmt.Sprintf("position (%s %s) is outside the domain of the filter CRS %s (first axis, %s: %s…%s %s; second axis, %s: %s…%s %s)", g(a1), g(a2), p.crs, firstEN, r(lo1), r(hi1), d.Unit, secondEN, r(lo2), r(hi2), d.Unit))
}

var wktTypes = map[string]bool{"POINT": true, "LINESTRING": true, "POLYGON": true, "MULTIPOINT": true,
	"MULTILINESTRING": true, "MULTIPOLYGON": true, "GEOMETRYCOLLECTION": true}

// wktGeometry reads one tagged WKT geometry into w.
func (p *parser) wktGeometry(w *wkt, depth int) error {
	t := p.next()
	kind := strings.ToUpper(t.text)
	if t.kind != tIdent || !wktTypes[kind] {
		if t.kind == tIdent && wktTypes[strings.TrimSuffix(kind, "Z")] {
			kind = strings.TrimSuffix(kind, "Z")
			w.z = true
		} else {
			return ferr(t.pos, t.end, fmt.Sprintf("%q 不是 WKT 几何类型", t.text), fmt.Sprintf("%q is not a WKT geometry type", t.text))
		}
	}
	if depth > MaxFilterDepth {
		return ferr(t.pos, t.end, "WKT 嵌套过深", "WKT literal nested too deep")
	}
	if m := p.peek(); isKeyword(m, "Z") {
		p.next()
		w.z = true
	} else if isKeyword(m, "M", "ZM") {
		return ferr(m.pos, m.end, "只支持二维或带 Z 的坐标，不支持 M", "only 2D or Z positions are supported, not M")
	}
	if w.z {
		if w.dim == 2 {
			return ferr(t.pos, t.end, "Z 几何与前面的二维坐标不一致", "a Z geometry after 2D positions: dimensions are inconsistent")
		}
		w.dim = 3
	}
	if kind == "GEOMETRYCOLLECTION" {
		if p.keyword("EMPTY") {
			return nil
		}
		if _, err := p.expect(tLParen, "'('", "'('"); err != nil {
			return err
		}
		for {
			sub := &wkt{dim: w.dim, out: w.out}
			if err := p.wktGeometry(sub, depth+1); err != nil {
				return err
			}
			p.addMember(sub)
			w.dim = sub.dim
			if p.peek().kind != tComma {
				break
			}
			p.next()
		}
		_, err := p.expect(tRParen, "结束 GEOMETRYCOLLECTION 的 ')'", "')' closing the GEOMETRYCOLLECTION")
		return err
	}
	w.b.WriteString(kind)
	if p.keyword("EMPTY") {
		w.b.WriteString(" EMPTY")
		return nil
	}
	switch kind {
	case "POINT":
		if _, err := p.expect(tLParen, "'('", "'('"); err != nil {
			return err
		}
		w.b.WriteByte('(')
		if err := p.wktPosition(w); err != nil {
			return err
		}
		if _, err := p.expect(tRParen, "结束点的 ')'", "')' closing the point"); err != nil {
			return err
		}
		w.b.WriteByte(')')
		return nil
	case "LINESTRING":
		return p.wktPositions(w, 2, false)
	case "POLYGON":
		return p.wktPolygon(w)
	}
	if _, err := p.expect(tLParen, "'('", "'('"); err != nil {
		return err
	}
	w.b.WriteByte('(')
	for i := 0; ; i++ {
		if i > 0 {
			w.b.WriteByte(',')
		}
		var err error
		switch kind {
		case "MULTIPOINT":
			if p.peek().kind == tLParen {
				p.next()
				w.b.WriteByte('(')
				if err = p.wktPosition(w); err == nil {
					_, err = p.expect(tRParen, "')'", "')'")
					w.b.WriteByte(')')
				}
			} else {
				err = p.wktPosition(w)
			}
		case "MULTILINESTRING":
			err = p.wktPositions(w, 2, false)
		case "MULTIPOLYGON":
			err = p.wktPolygon(w)
		}
		if err != nil {
			return err
		}
		if p.peek().kind != tComma {
			break
		}
		p.next()
	}
	if _, err := p.expect(tRParen, "结束 "+kind+" 的 ')'", "')' closing the "+kind); err != nil {
		return err
	}
	w.b.WriteByte(')')
	return nil
}

// wktPolygon reads ((ring), (ring) …): closed rings of ≥ 4 positions.
func (p *parser) wktPolygon(w *wkt) error {
	if _, err := p.expect(tLParen, "'('", "'('"); err != nil {
		return err
	}
	w.b.WriteByte('(')
	for i := 0; ; i++ {
		if i > 0 {
			w.b.WriteByte(',')
		}
		if err := p.wktPositions(w, 4, true); err != nil {
			return err
		}
		if p.peek().kind != tComma {
			break
		}
		p.next()
	}
	if _, err := p.expect(tRParen, "结束多边形的 ')'", "')' closing the polygon"); err != nil {
		return err
	}
	w.b.WriteByte(')')
	return nil
}

// wktPositions reads (pos, pos, …) with at least minN positions; closed
// requires the last to repeat the first (a polygon ring).
func (p *parser) wktPositions(w *wkt, minN int, closed bool) error {
	open, err := p.expect(tLParen, "'('", "'('")
	if err != nil {
		return err
	}
	w.b.WriteByte('(')
	var first, last []float64
	n := 0
	for {
		if n > 0 {
			w.b.WriteByte(',')
		}
		pos, err := p.wktPositionValues(w)
		if err != nil {
			return err
		}
		if n == 0 {
			first = pos
		}
		last = pos
		n++
		if p.peek().kind != tComma {
			break
		}
		p.next()
	}
	c, err := p.expect(tRParen, "')'", "')'")
	if err != nil {
		return err
	}
	w.b.WriteByte(')')
	what, whatEN := "线", "a line"
	if closed {
		what, whatEN = "多边形的环", "a polygon ring"
	}
	if n < minN {
		return ferr(open.pos, c.end, fmt.Sprintf("%s至少要 %d 个点，这里只有 %d 个", what, minN, n), fmt.Sprintf("%s needs at least %d positions, this one has %d", whatEN, minN, n))
	}
	if closed {
		for i := range first {
			if first[i] != last[i] {
				return ferr(open.pos, c.end, "多边形的环没有闭合：最后一个点要与第一个点相同", "the polygon ring is not closed: its last position must repeat the first")
			}
		}
	}
	return nil
}

func (p *parser) wktPosition(w *wkt) error {
	_, err := p.wktPositionValues(w)
	return err
}

// wktPositionValues reads one position: 2 or 3 finite numbers, as many as
// the positions before it, inside the filter CRS's domain.
func (p *parser) wktPositionValues(w *wkt) ([]float64, error) {
	start := p.peek()
	var vals []float64
	end := start.end
	for p.peek().kind == tNumber {
		num := p.next()
		x, err := strconv.ParseFloat(num.text, 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, ferr(num.pos, num.end, fmt.Sprintf("%q 不是有限的数字", num.text), fmt.Sprintf("%q is not a finite number", num.text))
		}
		vals = append(vals, x)
		end = num.end
	}
	if len(vals) == 0 {
		return nil, ferr(start.pos, start.end, fmt.Sprintf("这里应为坐标，却是 %q", start.text), fmt.Sprintf("expected a position (numbers), found %q", start.text))
	}
	if len(vals) < 2 || len(vals) > 3 {
		return nil, ferr(start.pos, end, fmt.Sprintf("一个位置应有 2 个或 3 个数，这里有 %d 个", len(vals)), fmt.Sprintf("a position has 2 or 3 numbers, this one has %d", len(vals)))
	}
	if w.dim == 0 {
		w.dim = len(vals)
	} else if w.dim != len(vals) {
		return nil, ferr(start.pos, end, fmt.Sprintf("坐标维数不一致：这个位置有 %d 个数，之前的有 %d 个", len(vals), w.dim),
			fmt.Sprintf("inconsistent dimensions: this position has %d numbers, the ones before have %d", len(vals), w.dim))
	}
	if err := p.inDomain(vals[0], vals[1], start.pos, end); err != nil {
		return nil, err
	}
	for i, x := range vals {
		if i > 0 {
			w.b.WriteByte(' ')
		}
		w.b.WriteString(strconv.FormatFloat(x, 'g', -1, 64))
	}
	return vals, nil
}

// wktSQL binds the WKT, converts it to EPSG:4490 from the filter CRS (axis
// order of that CRS's definition) and makes it valid (a self-crossing
// polygon typed by a client must not stop GEOS).
func (p *parser) wktSQL(wktText string) string {
	ph := p.arg(wktText, "text")
	var g string
	switch p.ctx.FilterSRID {
	case 0:
		g = "ST_GeomFromText(" + ph + ", 4490)"
	case layers.StorageSRID, 4326:
		g = "ST_FlipCoordinates(ST_GeomFromText(" + ph + ", 4490))"
	case layers.TileSRID:
		g = "ST_Transform(ST_GeomFromText(" + ph + ", 3857), 4490)"
	default:
		g = "ST_Transform(ST_FlipCoordinates(ST_GeomFromText(" + ph + ", " + strconv.Itoa(p.ctx.FilterSRID) + ")), 4490)"
	}
	return "ST_MakeValid(" + g + ")"
}
