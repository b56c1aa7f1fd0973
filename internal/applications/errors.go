package applications

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Error is a refusal the desk can act on, in Chinese and English, with the
// HTTP status it maps to: 400/422 for a field (Field names it), 403 for a
// role or village out of scope, 404 for an unknown application or document,
// 409 for a transition that does not fit the current state or version
// (State names it, Missing lists what is missing), 413/415 for a document.
type Error struct {
	Status int    `json:"-"`
	Code   string `json:"code"`
	EN     string `json:"description"`
	ZH     string `json:"description_zh"`
	// Field is the request field at fault (form.applicant.id_number …).
	Field string `json:"field,omitempty"`
	// State and StateLabel are the application's current state, for 409s.
	State      State  `json:"state,omitempty"`
	StateLabel string `json:"state_label,omitempty"`
	Version    int    `json:"version,omitempty"`
	// Missing lists what the transition lacks, one bilingual line each.
	Missing []Missing `json:"missing,omitempty"`
	// Problems lists every invalid field of a form (the first is in
	// ZH/EN/Field as well).
	Problems []*Error `json:"problems,omitempty"`
}

// Missing is one thing a transition needs and lacks.
type Missing struct {
	ZH string `json:"description_zh"`
	EN string `json:"description"`
}

func (e *Error) Error() string { return e.ZH + " / " + e.EN }

func fieldErr(field, zh, en string, a ...any) *Error {
	return &Error{Status: http.StatusUnprocessableEntity, Code: "InvalidField", Field: field,
		ZH: "字段 " + field + "：" + fmt.Sprintf(zh, a...), EN: "field " + field + ": " + fmt.Sprintf(en, a...)}
}

func notFound(id int64) *Error {
	return &Error{Status: http.StatusNotFound, Code: "NotFound",
		ZH: fmt.Sprintf("申请 %d 不存在", id), EN: fmt.Sprintf("no application %d", id)}
}

func forbidden(zh, en string) *Error {
	return &Error{Status: http.StatusForbidden, Code: "Forbidden", ZH: zh, EN: en}
}

// conflict is a 409 about the current state with what is missing.
func conflict(code string, a *row, missing []Missing, zh, en string) *Error {
	e := &Error{Status: http.StatusConflict, Code: code, State: a.State, StateLabel: a.State.Label(), Version: a.Version, Missing: missing}
	var mz, me []string
	for _, m := range missing {
		mz = append(mz, m.ZH)
		me = append(me, m.EN)
	}
	e.ZH = fmt.Sprintf("申请 %d 当前状态为「%s」：%s", a.ID, a.State.Label(), zh)
	e.EN = fmt.Sprintf("application %d is in state %s (%s): %s", a.ID, a.State, a.State.Label(), en)
	if len(mz) > 0 {
		e.ZH += "。缺少：" + strings.Join(mz, "；")
		e.EN += ". Missing: " + strings.Join(me, "; ")
	}
	return e
}

// formErrors folds field problems into one 422 (nil for none).
func formErrors(ps []*Error) error {
	if len(ps) == 0 {
		return nil
	}
	e := *ps[0]
	if len(ps) > 1 {
		e.ZH += fmt.Sprintf("（另有 %d 处问题，见 problems）", len(ps)-1)
		e.EN += fmt.Sprintf(" (and %d more problems, see problems)", len(ps)-1)
	}
	e.Problems = ps
	return &e
}

// AsError returns err's *Error, if it is one.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

type reqKey struct{}

// WithRequest returns ctx carrying the HTTP request, so that the audit rows
// written by the Service name it (method, path, request id, address).
func WithRequest(ctx context.Context, r *http.Request) context.Context {
	return context.WithValue(ctx, reqKey{}, r)
}

func requestOf(ctx context.Context) *http.Request {
	r, _ := ctx.Value(reqKey{}).(*http.Request)
	return r
}
