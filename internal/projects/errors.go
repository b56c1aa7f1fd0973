package projects

import (
	"context"
	"errors"
	"fmt"
	"net/http"
)

// Error is a refusal the user can act on, in Chinese and English, with
// the HTTP status it maps to: 400/422 for a field (Field names it), 403
// for a role or village out of scope, 404 for an unknown project, report
// or photo, 409 for an action that does not fit the status or version,
// 413/415 for a photo.
type Error struct {
	Status int    `json:"-"`
	Code   string `json:"code"`
	EN     string `json:"description"`
	ZH     string `json:"description_zh"`
	Field  string `json:"field,omitempty"`
	// Status and version of the project, for 409s.
	ProjectStatus Status `json:"status,omitempty"`
	Version       int    `json:"version,omitempty"`
}

func (e *Error) Error() string { return e.ZH + " / " + e.EN }

// AsError returns err's *Error, if it is one.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

func fieldErr(field, zh, en string, a ...any) *Error {
	return &Error{Status: http.StatusUnprocessableEntity, Code: "InvalidField", Field: field,
		ZH: "字段 " + field + "：" + fmt.Sprintf(zh, a...), EN: "field " + field + ": " + fmt.Sprintf(en, a...)}
}

func notFound(what string, id int64) *Error {
	zh := map[string]string{"project": "项目", "report": "进展报告", "photo": "照片"}[what]
	return &Error{Status: http.StatusNotFound, Code: "NotFound",
		ZH: fmt.Sprintf("%s %d 不存在", zh, id), EN: fmt.Sprintf("no %s %d", what, id)}
}

func forbidden(zh, en string) *Error {
	return &Error{Status: http.StatusForbidden, Code: "Forbidden", ZH: zh, EN: en}
}

func conflict(p *Project, zh, en string) *Error {
	return &Error{Status: http.StatusConflict, Code: "StatusConflict", ProjectStatus: p.Status, Version: p.Version,
		ZH: fmt.Sprintf("项目 %d 当前为「%s」：%s", p.ID, p.Status.Label(), zh),
		EN: fmt.Sprintf("project %d is %s (%s): %s", p.ID, p.Status, p.Status.Label(), en)}
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
