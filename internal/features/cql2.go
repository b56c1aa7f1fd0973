package features

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"villageplan/layers"
)

// CQL2 text filters (OGC API – Features Part 3, CQL2 1.0): the classes
// Basic CQL2, Advanced Comparison Operators (LIKE, BETWEEN, IN) and Basic
// Spatial Functions (S_INTERSECTS with a WKT or BBOX literal).
//
// A filter is parsed into a small tree and translated to an SQL predicate
// over the table alias t: property names become catalog identifiers (only
// the caller-visible fields of the layer), every literal becomes a bind
// parameter. No text of the filter reaches SQL.
//
// No Go CQL2 library was available from the module proxy here
// (planetlabs/go-ogc and go-cql-text are refused), hence this parser.

// MaxFilterDepth bounds the nesting of a filter; MaxFilterLength its size in
// bytes.
const (
	MaxFilterDepth  = 20
	MaxFilterLength = 20000
)

// FilterError is a filter that cannot be parsed or does not fit the layer;
// Pos is the byte offset in the filter text.
type FilterError struct {
	Pos int
	Msg string
}

func (e *FilterError) Error() string { return fmt.Sprintf("at character %d: %s", e.Pos+1, e.Msg) }

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
)

type token struct {
	kind tokKind
	text string
	pos  int
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
			out = append(out, token{tLParen, "(", i})
			i++
		case r == ')':
			out = append(out, token{tRParen, ")", i})
			i++
		case r == ',':
			out = append(out, token{tComma, ",", i})
			i++
		case r == '\'':
			start := i
			i++
			var b strings.Builder
			for {
				if i >= len(s) {
					return nil, &FilterError{start, "string literal is not closed with '"}
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
			out = append(out, token{tString, b.String(), start})
		case r == '"':
			start := i
			end := strings.IndexByte(s[i+1:], '"')
			if end < 0 {
				return nil, &FilterError{start, "quoted property name is not closed with \""}
			}
			out = append(out, token{tIdent, s[i+1 : i+1+end], start})
			i += end + 2
		case r == '<' || r == '>' || r == '=':
			start := i
			op := string(r)
			if i+1 < len(s) && (s[i+1] == '=' || (r == '<' && s[i+1] == '>')) {
				op += string(s[i+1])
			}
			i += len(op)
			out = append(out, token{tOp, op, start})
		case r == '-' || r == '+' || r == '.' || (r >= '0' && r <= '9'):
			start := i
			i++
			for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.' || s[i] == 'e' || s[i] == 'E' ||
				((s[i] == '-' || s[i] == '+') && (s[i-1] == 'e' || s[i-1] == 'E'))) {
				i++
			}
			out = append(out, token{tNumber, s[start:i], start})
		case unicode.IsLetter(r) || r == '_':
			start := i
			for i < len(s) {
				r2, w2 := utf8.DecodeRuneInString(s[i:])
				if !(unicode.IsLetter(r2) || unicode.IsDigit(r2) || r2 == '_' || r2 == ':' || r2 == '.') {
					break
				}
				i += w2
			}
			out = append(out, token{tIdent, s[start:i], start})
		default:
			return nil, &FilterError{i, fmt.Sprintf("unexpected character %q", r)}
		}
	}
	return append(out, token{tEOF, "", len(s)}), nil
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
	// given in the axis order of that CRS.
	FilterSRID int
}

type parser struct {
	toks  []token
	i     int
	ctx   FilterContext
	args  []any
	depth int
}

// TranslateCQL2 parses a CQL2 text filter and returns an SQL predicate
// over alias t with placeholders $W1…$Wn and their arguments (see
// Query.Where). Errors are *FilterError.
func TranslateCQL2(filter string, ctx FilterContext) (string, []any, error) {
	if len(filter) > MaxFilterLength {
		return "", nil, &FilterError{0, fmt.Sprintf("filter longer than %d bytes", MaxFilterLength)}
	}
	toks, err := lex(filter)
	if err != nil {
		return "", nil, err
	}
	if ctx.GeometryName == "" {
		ctx.GeometryName = "geometry"
	}
	p := &parser{toks: toks, ctx: ctx}
	sql, err := p.orExpr()
	if err != nil {
		return "", nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return "", nil, &FilterError{t.pos, fmt.Sprintf("unexpected %q after a complete expression", t.text)}
	}
	return sql, p.args, nil
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token { t := p.toks[p.i]; p.i++; return t }

func (p *parser) keyword(words ...string) bool {
	t := p.peek()
	if t.kind == tIdent && strings.EqualFold(t.text, words[0]) {
		if len(words) == 2 {
			t2 := p.toks[p.i+1]
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

func (p *parser) expect(k tokKind, what string) (token, error) {
	t := p.next()
	if t.kind != k {
		return t, &FilterError{t.pos, fmt.Sprintf("expected %s, found %q", what, t.text)}
	}
	return t, nil
}

func (p *parser) arg(v any) string {
	p.args = append(p.args, v)
	return "$W" + strconv.Itoa(len(p.args))
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > MaxFilterDepth {
		return &FilterError{p.peek().pos, fmt.Sprintf("filter nested deeper than %d levels", MaxFilterDepth)}
	}
	return nil
}

func (p *parser) orExpr() (string, error) {
	if err := p.enter(); err != nil {
		return "", err
	}
	defer func() { p.depth-- }()
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
		defer func() { p.depth-- }()
		inner, err := p.notExpr()
		if err != nil {
			return "", err
		}
		return "(NOT " + inner + ")", nil
	}
	return p.predicate()
}

// operand is a translated scalar: SQL text and its CQL type.
type operand struct {
	sql   string
	typ   layers.FieldType
	field *layers.Field
	isLit bool
	pos   int
}

func (p *parser) predicate() (string, error) {
	t := p.peek()
	if t.kind == tLParen {
		p.next()
		inner, err := p.orExpr()
		if err != nil {
			return "", err
		}
		if _, err := p.expect(tRParen, "')'"); err != nil {
			return "", err
		}
		return inner, nil
	}
	if t.kind == tIdent && (strings.EqualFold(t.text, "S_INTERSECTS") || strings.EqualFold(t.text, "INTERSECTS")) {
		return p.spatial()
	}
	if t.kind == tIdent && (strings.EqualFold(t.text, "TRUE") || strings.EqualFold(t.text, "FALSE")) && p.toks[p.i+1].kind != tOp {
		p.next()
		return strings.ToUpper(t.text), nil
	}
	left, err := p.scalar(nil)
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
		if left.typ != layers.Text {
			return "", &FilterError{left.pos, "LIKE needs a text property"}
		}
		pat, err := p.expect(tString, "a quoted LIKE pattern")
		if err != nil {
			return "", err
		}
		return "(" + left.sql + " " + not + "LIKE " + p.arg(pat.text) + ")", nil
	case p.keyword("BETWEEN"):
		lo, err := p.scalar(&left)
		if err != nil {
			return "", err
		}
		if !p.keyword("AND") {
			return "", &FilterError{p.peek().pos, "BETWEEN needs … AND …"}
		}
		hi, err := p.scalar(&left)
		if err != nil {
			return "", err
		}
		return "(" + left.sql + " " + not + "BETWEEN " + lo.sql + " AND " + hi.sql + ")", nil
	case p.keyword("IN"):
		if _, err := p.expect(tLParen, "'(' after IN"); err != nil {
			return "", err
		}
		var items []string
		for {
			v, err := p.scalar(&left)
			if err != nil {
				return "", err
			}
			items = append(items, v.sql)
			if p.peek().kind == tComma {
				p.next()
				continue
			}
			break
		}
		if _, err := p.expect(tRParen, "')' closing the IN list"); err != nil {
			return "", err
		}
		return "(" + left.sql + " " + not + "IN (" + strings.Join(items, ", ") + "))", nil
	}
	if neg {
		return "", &FilterError{p.peek().pos, "NOT here must be followed by LIKE, BETWEEN or IN"}
	}
	if p.keyword("IS") {
		n := p.keyword("NOT")
		if !p.keyword("NULL") {
			return "", &FilterError{p.peek().pos, "expected NULL after IS"}
		}
		if n {
			return "(" + left.sql + " IS NOT NULL)", nil
		}
		return "(" + left.sql + " IS NULL)", nil
	}
	op := p.next()
	if op.kind != tOp {
		return "", &FilterError{op.pos, fmt.Sprintf("expected a comparison (=, <>, <, >, <=, >=, LIKE, BETWEEN, IN, IS NULL), found %q", op.text)}
	}
	right, err := p.scalar(&left)
	if err != nil {
		return "", err
	}
	if left.isLit && right.field != nil {
		// literal op property: type the literal after the property
		if err := retype(&left, right, p); err != nil {
			return "", err
		}
	}
	return "(" + left.sql + " " + op.text + " " + right.sql + ")", nil
}

// retype re-binds a literal on the left of a comparison to the type of the
// property on the right.
func retype(lit *operand, prop operand, p *parser) error {
	idx, _ := strconv.Atoi(strings.TrimPrefix(lit.sql, "$W"))
	if idx < 1 || idx > len(p.args) {
		return nil
	}
	v, err := convertLiteral(p.args[idx-1], prop.typ, lit.pos)
	if err != nil {
		return err
	}
	p.args[idx-1] = v
	return nil
}

// scalar reads a property name or a literal. like, when given, is the
// other operand: a literal is converted to that property's type.
func (p *parser) scalar(like *operand) (operand, error) {
	t := p.next()
	switch t.kind {
	case tIdent:
		up := strings.ToUpper(t.text)
		if (up == "DATE" || up == "TIMESTAMP") && p.peek().kind == tLParen {
			p.next()
			s, err := p.expect(tString, "a quoted date")
			if err != nil {
				return operand{}, err
			}
			if _, err := p.expect(tRParen, "')'"); err != nil {
				return operand{}, err
			}
			layout := "2006-01-02"
			if up == "TIMESTAMP" {
				layout = time.RFC3339
			}
			d, err := time.Parse(layout, s.text)
			if err != nil {
				return operand{}, &FilterError{s.pos, fmt.Sprintf("%q is not a valid %s", s.text, strings.ToLower(up))}
			}
			return operand{sql: p.arg(d), typ: layers.Date, isLit: true, pos: t.pos}, nil
		}
		if up == "TRUE" || up == "FALSE" {
			return operand{sql: p.arg(up == "TRUE"), typ: layers.Bool, isLit: true, pos: t.pos}, nil
		}
		for i := range p.ctx.Fields {
			f := &p.ctx.Fields[i]
			if f.Name == t.text || strings.EqualFold(f.Code, t.text) && f.Code != "" {
				return operand{sql: "t." + layers.QuoteIdent(f.Name), typ: f.Type, field: f, pos: t.pos}, nil
			}
		}
		return operand{}, &FilterError{t.pos, fmt.Sprintf("%q is not a queryable property of this collection", t.text)}
	case tString:
		var v any = t.text
		typ := layers.Text
		if like != nil && like.field != nil {
			cv, err := convertLiteral(t.text, like.typ, t.pos)
			if err != nil {
				return operand{}, err
			}
			v, typ = cv, like.typ
		}
		return operand{sql: p.arg(v), typ: typ, isLit: true, pos: t.pos}, nil
	case tNumber:
		x, err := strconv.ParseFloat(t.text, 64)
		if err != nil || math.IsInf(x, 0) || math.IsNaN(x) {
			return operand{}, &FilterError{t.pos, fmt.Sprintf("%q is not a number", t.text)}
		}
		var v any = x
		typ := layers.Real
		if like != nil && like.field != nil {
			cv, err := convertLiteral(x, like.typ, t.pos)
			if err != nil {
				return operand{}, err
			}
			v, typ = cv, like.typ
		}
		return operand{sql: p.arg(v), typ: typ, isLit: true, pos: t.pos}, nil
	}
	return operand{}, &FilterError{t.pos, fmt.Sprintf("expected a property or a value, found %q", t.text)}
}

// convertLiteral converts a parsed literal to the Go value bound for a
// field of type typ.
func convertLiteral(v any, typ layers.FieldType, pos int) (any, error) {
	switch typ {
	case layers.Integer:
		switch x := v.(type) {
		case float64:
			if x != math.Trunc(x) || math.Abs(x) > math.MaxInt32 {
				return nil, &FilterError{pos, fmt.Sprintf("%v is not a whole number", x)}
			}
			return int32(x), nil
		case string:
			n, err := strconv.ParseInt(x, 10, 32)
			if err != nil {
				return nil, &FilterError{pos, fmt.Sprintf("%q is not a whole number", x)}
			}
			return int32(n), nil
		}
	case layers.Real:
		switch x := v.(type) {
		case float64:
			return x, nil
		case string:
			f, err := strconv.ParseFloat(x, 64)
			if err != nil {
				return nil, &FilterError{pos, fmt.Sprintf("%q is not a number", x)}
			}
			return f, nil
		}
	case layers.Text:
		switch x := v.(type) {
		case string:
			return x, nil
		case float64:
			// 三调 codes such as DLBM are text: dlbm = 0103 is a common slip.
			return nil, &FilterError{pos, fmt.Sprintf("%v compares a text property with a number; quote it: '%v'", x, x)}
		}
	case layers.Date:
		switch x := v.(type) {
		case time.Time:
			return x, nil
		case string:
			d, err := time.Parse("2006-01-02", x)
			if err != nil {
				return nil, &FilterError{pos, fmt.Sprintf("%q is not a date (YYYY-MM-DD)", x)}
			}
			return d, nil
		}
	case layers.Bool:
		if b, ok := v.(bool); ok {
			return b, nil
		}
	}
	return nil, &FilterError{pos, fmt.Sprintf("value %v does not fit a %s property", v, typ)}
}

// spatial translates S_INTERSECTS(geometry, <WKT or BBOX(…)>).
func (p *parser) spatial() (string, error) {
	p.next()
	if _, err := p.expect(tLParen, "'(' after S_INTERSECTS"); err != nil {
		return "", err
	}
	g, err := p.expect(tIdent, "the geometry property")
	if err != nil {
		return "", err
	}
	if !strings.EqualFold(g.text, p.ctx.GeometryName) && !strings.EqualFold(g.text, "geom") {
		return "", &FilterError{g.pos, fmt.Sprintf("%q is not the geometry property (use %s)", g.text, p.ctx.GeometryName)}
	}
	if _, err := p.expect(tComma, "','"); err != nil {
		return "", err
	}
	lit, err := p.geometryLiteral()
	if err != nil {
		return "", err
	}
	if _, err := p.expect(tRParen, "')' closing S_INTERSECTS"); err != nil {
		return "", err
	}
	return "(t.geom && " + lit + " AND ST_Intersects(t.geom, " + lit + "))", nil
}

// geometryLiteral reads a WKT geometry or BBOX(…) and returns SQL that
// builds it in EPSG:4490.
func (p *parser) geometryLiteral() (string, error) {
	t := p.next()
	if t.kind != tIdent {
		return "", &FilterError{t.pos, "expected a WKT geometry or BBOX(…)"}
	}
	kind := strings.ToUpper(t.text)
	if kind == "BBOX" || kind == "ENVELOPE" {
		if _, err := p.expect(tLParen, "'('"); err != nil {
			return "", err
		}
		var n []float64
		for {
			num, err := p.expect(tNumber, "a number")
			if err != nil {
				return "", err
			}
			x, err := strconv.ParseFloat(num.text, 64)
			if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
				return "", &FilterError{num.pos, "not a finite number"}
			}
			n = append(n, x)
			if p.peek().kind == tComma {
				p.next()
				continue
			}
			break
		}
		if _, err := p.expect(tRParen, "')'"); err != nil {
			return "", err
		}
		if len(n) == 6 {
			n = []float64{n[0], n[1], n[3], n[4]}
		}
		if len(n) != 4 {
			return "", &FilterError{t.pos, "BBOX needs 4 numbers"}
		}
		if kind == "ENVELOPE" { // ENVELOPE(minx, maxx, maxy, miny)
			n = []float64{n[0], n[3], n[1], n[2]}
		}
		wkt := fmt.Sprintf("POLYGON((%[1]v %[2]v,%[3]v %[2]v,%[3]v %[4]v,%[1]v %[4]v,%[1]v %[2]v))", n[0], n[1], n[2], n[3])
		return p.wktSQL(wkt), nil
	}
	switch kind {
	case "POINT", "LINESTRING", "POLYGON", "MULTIPOINT", "MULTILINESTRING", "MULTIPOLYGON", "GEOMETRYCOLLECTION":
	default:
		return "", &FilterError{t.pos, fmt.Sprintf("%q is not a WKT geometry type", t.text)}
	}
	// Re-assemble the WKT text from tokens: only numbers, commas,
	// parentheses and geometry keywords are allowed in it.
	var b strings.Builder
	b.WriteString(kind)
	depth := 0
	for {
		tk := p.next()
		switch tk.kind {
		case tLParen:
			depth++
			b.WriteByte('(')
		case tRParen:
			depth--
			b.WriteByte(')')
		case tComma:
			b.WriteByte(',')
		case tNumber:
			if _, err := strconv.ParseFloat(tk.text, 64); err != nil {
				return "", &FilterError{tk.pos, "not a number"}
			}
			b.WriteByte(' ')
			b.WriteString(tk.text)
		case tIdent:
			up := strings.ToUpper(tk.text)
			switch up {
			case "POINT", "LINESTRING", "POLYGON", "Z", "EMPTY":
				b.WriteByte(' ')
				b.WriteString(up)
			default:
				return "", &FilterError{tk.pos, fmt.Sprintf("unexpected %q in a WKT literal", tk.text)}
			}
		default:
			return "", &FilterError{tk.pos, "WKT literal is not closed"}
		}
		if depth == 0 && (tk.kind == tRParen || (tk.kind == tIdent && strings.EqualFold(tk.text, "EMPTY"))) {
			break
		}
		if depth > MaxFilterDepth {
			return "", &FilterError{tk.pos, "WKT literal nested too deep"}
		}
	}
	return p.wktSQL(b.String()), nil
}

// wktSQL binds the WKT and converts it to EPSG:4490 from the filter CRS
// (axis order of that CRS's definition).
func (p *parser) wktSQL(wkt string) string {
	ph := p.arg(wkt)
	switch p.ctx.FilterSRID {
	case 0:
		return "ST_GeomFromText(" + ph + ", 4490)"
	case layers.StorageSRID, 4326:
		return "ST_FlipCoordinates(ST_GeomFromText(" + ph + ", 4490))"
	case layers.TileSRID:
		return "ST_Transform(ST_GeomFromText(" + ph + ", 3857), 4490)"
	default:
		return "ST_Transform(ST_FlipCoordinates(ST_GeomFromText(" + ph + ", " + strconv.Itoa(p.ctx.FilterSRID) + ")), 4490)"
	}
}
