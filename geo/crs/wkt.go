package crs

import (
	"fmt"
	"strings"
	"unicode"
)

// wktNode is one KEYWORD[...] element of an OGC or ESRI WKT string.
type wktNode struct {
	key  string     // upper case, e.g. "PROJCS"
	args []wktArg   // in order
	kids []*wktNode // the nested elements among args, in order
}

// wktArg is one argument: a nested node, or a quoted string, number or bare
// word kept as text.
type wktArg struct {
	node   *wktNode
	text   string
	quoted bool
}

// name returns the first quoted argument (the element's name) or "".
func (n *wktNode) name() string {
	for _, a := range n.args {
		if a.node == nil {
			return a.text
		}
	}
	return ""
}

// texts returns the non-node arguments as text.
func (n *wktNode) texts() []string {
	var out []string
	for _, a := range n.args {
		if a.node == nil {
			out = append(out, a.text)
		}
	}
	return out
}

// child returns the first direct child whose key is one of keys.
func (n *wktNode) child(keys ...string) *wktNode {
	for _, k := range n.kids {
		for _, want := range keys {
			if k.key == want {
				return k
			}
		}
	}
	return nil
}

// children returns all direct children with the key.
func (n *wktNode) children(key string) []*wktNode {
	var out []*wktNode
	for _, k := range n.kids {
		if k.key == key {
			out = append(out, k)
		}
	}
	return out
}

// parseWKT parses one WKT element (WKT1 OGC, ESRI or WKT2; brackets [] or ()).
// Text after the element is an error.
func parseWKT(s string) (*wktNode, error) {
	p := &wktParser{s: s}
	p.skipSpace()
	n, err := p.node(0)
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.i != len(p.s) {
		return nil, fmt.Errorf("unexpected text after the WKT at offset %d", p.i)
	}
	return n, nil
}

type wktParser struct {
	s string
	i int
}

// maxWKTDepth bounds nesting so that hostile input cannot exhaust the stack.
const maxWKTDepth = 32

func (p *wktParser) skipSpace() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\r' || p.s[p.i] == '\n') {
		p.i++
	}
}

func (p *wktParser) word() string {
	start := p.i
	for p.i < len(p.s) {
		c := rune(p.s[p.i])
		if c == '_' || c == '.' || c == '-' || c == '+' || unicode.IsLetter(c) || unicode.IsDigit(c) {
			p.i++
			continue
		}
		break
	}
	return p.s[start:p.i]
}

func (p *wktParser) node(depth int) (*wktNode, error) {
	if depth > maxWKTDepth {
		return nil, fmt.Errorf("WKT nested deeper than %d levels", maxWKTDepth)
	}
	key := p.word()
	if key == "" {
		return nil, fmt.Errorf("expected a WKT keyword at offset %d", p.i)
	}
	p.skipSpace()
	if p.i >= len(p.s) || (p.s[p.i] != '[' && p.s[p.i] != '(') {
		return nil, fmt.Errorf("expected [ after %s at offset %d", key, p.i)
	}
	closer := byte(']')
	if p.s[p.i] == '(' {
		closer = ')'
	}
	p.i++
	n := &wktNode{key: strings.ToUpper(key)}
	for {
		p.skipSpace()
		if p.i >= len(p.s) {
			return nil, fmt.Errorf("WKT ends inside %s", n.key)
		}
		if p.s[p.i] == closer && len(n.args) == 0 {
			p.i++
			return n, nil
		}
		switch {
		case p.s[p.i] == '"':
			p.i++
			var b strings.Builder
			for {
				if p.i >= len(p.s) {
					return nil, fmt.Errorf("unterminated string in %s", n.key)
				}
				if p.s[p.i] == '"' {
					if p.i+1 < len(p.s) && p.s[p.i+1] == '"' { // "" escapes a quote
						b.WriteByte('"')
						p.i += 2
						continue
					}
					p.i++
					break
				}
				b.WriteByte(p.s[p.i])
				p.i++
			}
			n.args = append(n.args, wktArg{text: b.String(), quoted: true})
		default:
			start := p.i
			w := p.word()
			if w == "" {
				return nil, fmt.Errorf("unexpected %q in %s at offset %d", p.s[p.i], n.key, p.i)
			}
			p.skipSpace()
			if p.i < len(p.s) && (p.s[p.i] == '[' || p.s[p.i] == '(') {
				p.i = start
				kid, err := p.node(depth + 1)
				if err != nil {
					return nil, err
				}
				n.args = append(n.args, wktArg{node: kid})
				n.kids = append(n.kids, kid)
			} else {
				n.args = append(n.args, wktArg{text: w})
			}
		}
		p.skipSpace()
		if p.i >= len(p.s) {
			return nil, fmt.Errorf("WKT ends inside %s", n.key)
		}
		switch p.s[p.i] {
		case ',':
			p.i++
		case closer:
			p.i++
			return n, nil
		default:
			return nil, fmt.Errorf("expected , or %c in %s at offset %d", closer, n.key, p.i)
		}
	}
}

// norm lower-cases s and keeps only letters and digits, so that
// "CGCS2000 / 3-degree Gauss-Kruger zone 42", "Gauss_Kruger" and
// "Gauss-Kruger" compare by their words.
func norm(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}
