package projects

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // registers the JPEG decoder for image.DecodeConfig
	_ "image/png"  // registers the PNG decoder
	"net/http"
	"path"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"villageplan/internal/auth"
)

// Report is one progress report of an approved project: the day it
// describes, the text, and its photos (metadata; the content is served
// by Photo).
type Report struct {
	ID         int64       `json:"id"`
	ReportedOn string      `json:"reported_on"` // YYYY-MM-DD
	Text       string      `json:"text"`
	CreatedBy  string      `json:"created_by"`
	CreatedAt  time.Time   `json:"created_at"`
	Photos     []PhotoMeta `json:"photos"`
}

// PhotoMeta describes a stored photo (JPEG or PNG, judged by its bytes).
type PhotoMeta struct {
	ID          int64  `json:"id"`
	Filename    string `json:"filename"`
	ContentType string `json:"content_type"`
	SizeBytes   int    `json:"size_bytes"`
	SHA256      string `json:"sha256"`
	Width       int    `json:"width"`
	Height      int    `json:"height"`
}

// Photo is a photo with its content.
type Photo struct {
	PhotoMeta
	Content []byte
}

func (s *Service) reports(ctx context.Context, id int64) ([]Report, error) {
	rows, err := s.pool.Query(ctx, `SELECT r.id, to_char(r.reported_on, 'YYYY-MM-DD'), r.text, r.created_by, r.created_at,
		coalesce(jsonb_agg(jsonb_build_object('id', f.id, 'filename', f.filename, 'content_type', f.content_type,
			'size_bytes', f.size_bytes, 'sha256', f.sha256) ORDER BY f.id) FILTER (WHERE f.id IS NOT NULL), '[]')
		FROM villageplan.project_reports r LEFT JOIN villageplan.project_photos f ON f.report_id = r.id
		WHERE r.project_id = $1 GROUP BY r.id ORDER BY r.reported_on, r.id`, id)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Report, error) {
		var rep Report
		err := r.Scan(&rep.ID, &rep.ReportedOn, &rep.Text, &rep.CreatedBy, &rep.CreatedAt, &rep.Photos)
		return rep, err
	})
}

// AddReport records a progress report (date YYYY-MM-DD, not in the
// future; text ≤ 4000 characters) of an approved project, by who may
// record its progress.
func (s *Service) AddReport(ctx context.Context, id int64, date, text string) (*Report, error) {
	pr := auth.FromContext(ctx)
	day, err := time.ParseInLocation(time.DateOnly, strings.TrimSpace(date), China)
	if err != nil {
		return nil, fieldErr("reported_on", "%q 不是日期（YYYY-MM-DD）", "%q is not a date (YYYY-MM-DD)", date)
	}
	if day.After(s.cfg.Now().In(China)) {
		return nil, fieldErr("reported_on", "%s 在今天之后", "%s is in the future", date)
	}
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, fieldErr("text", "不能为空", "must not be empty")
	}
	if utf8.RuneCountInString(text) > 4000 {
		return nil, fieldErr("text", "超过 4000 个字符", "is longer than 4000 characters")
	}
	rep := &Report{ReportedOn: day.Format(time.DateOnly), Text: text, Photos: []PhotoMeta{}}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		p, err := s.load(ctx, tx, id, 0)
		if err != nil {
			return err
		}
		if p.Status != Approved {
			return conflict(p, "只有已审核的项目可以报告进展", "only an approved project takes progress reports")
		}
		if !mayProgress(pr, p.Village) {
			return forbidden("无权报告该项目的进展", "you may not report this project's progress")
		}
		if err := tx.QueryRow(ctx, `INSERT INTO villageplan.project_reports (project_id, reported_on, text, created_by)
			VALUES ($1, $2, $3, $4) RETURNING id, created_at`, id, day, text, pr.Username).Scan(&rep.ID, &rep.CreatedAt); err != nil {
			return err
		}
		rep.CreatedBy = pr.Username
		return s.record(ctx, tx, id, p.Village, "report", draftRole(pr, p.Village),
			map[string]map[string]any{"report": {"new": map[string]any{"id": rep.ID, "reported_on": rep.ReportedOn}}}, text)
	})
	if err != nil {
		return nil, err
	}
	return rep, nil
}

// MaxPhotoBytes is the cap of one photo.
func (s *Service) MaxPhotoBytes() int64 { return s.cfg.MaxPhotoBytes }

// TooLarge is the 413 of a photo over the cap.
func (s *Service) TooLarge() *Error {
	return &Error{Status: http.StatusRequestEntityTooLarge, Code: "TooLarge", Field: "(the request body)",
		ZH: fmt.Sprintf("照片超过上限 %d 字节", s.cfg.MaxPhotoBytes), EN: fmt.Sprintf("the photo is larger than the limit of %d bytes", s.cfg.MaxPhotoBytes)}
}

// AddPhoto stores a photo of a report. The content must be a JPEG or PNG
// image (judged by its bytes and decoded header, not by the name or the
// client's Content-Type: anything else is 415) of at most MaxPhotoBytes
// (413).
func (s *Service) AddPhoto(ctx context.Context, id, reportID int64, filename string, content []byte) (*PhotoMeta, error) {
	pr := auth.FromContext(ctx)
	if int64(len(content)) > s.cfg.MaxPhotoBytes {
		return nil, s.TooLarge()
	}
	if len(content) == 0 {
		return nil, fieldErr("(the request body)", "照片为空", "the photo is empty")
	}
	ctype := http.DetectContentType(content)
	var meta PhotoMeta
	if ctype == "image/jpeg" || ctype == "image/png" {
		cfg, format, err := image.DecodeConfig(bytes.NewReader(content))
		if err != nil || "image/"+format != ctype || cfg.Width < 1 || cfg.Height < 1 {
			ctype = "broken"
		} else {
			meta.Width, meta.Height = cfg.Width, cfg.Height
		}
	}
	if ctype != "image/jpeg" && ctype != "image/png" {
		return nil, &Error{Status: http.StatusUnsupportedMediaType, Code: "UnsupportedMediaType", Field: "(the request body)",
			ZH: "照片须为 JPEG 或 PNG 图像（按文件内容判断，" + describe(ctype) + "）",
			EN: "a photo must be a JPEG or PNG image (judged by its content; " + describeEN(ctype) + ")"}
	}
	filename = path.Base(strings.ReplaceAll(strings.TrimSpace(filename), `\`, "/"))
	if filename == "" || filename == "." || filename == "/" || !utf8.ValidString(filename) || len(filename) > 200 {
		filename = fmt.Sprintf("photo.%s", strings.TrimPrefix(ctype, "image/"))
	}
	sum := sha256.Sum256(content)
	meta.Filename, meta.ContentType, meta.SizeBytes, meta.SHA256 = filename, ctype, len(content), hex.EncodeToString(sum[:])
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		p, err := s.load(ctx, tx, id, 0)
		if err != nil {
			return err
		}
		if !mayProgress(pr, p.Village) {
			return forbidden("无权上传该项目的照片", "you may not add photos to this project")
		}
		var ok bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM villageplan.project_reports WHERE id = $1 AND project_id = $2)`,
			reportID, id).Scan(&ok); err != nil {
			return err
		}
		if !ok {
			return notFound("report", reportID)
		}
		if err := tx.QueryRow(ctx, `INSERT INTO villageplan.project_photos (report_id, project_id, filename, content_type,
			size_bytes, sha256, content, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
			reportID, id, meta.Filename, meta.ContentType, meta.SizeBytes, meta.SHA256, content, pr.Username).Scan(&meta.ID); err != nil {
			return err
		}
		return s.record(ctx, tx, id, p.Village, "photo", draftRole(pr, p.Village),
			map[string]map[string]any{"photo": {"new": map[string]any{"id": meta.ID, "report": reportID, "filename": meta.Filename, "sha256": meta.SHA256}}}, "")
	})
	if err != nil {
		return nil, err
	}
	return &meta, nil
}

func describe(ctype string) string {
	if ctype == "broken" {
		return "文件头是图像但无法读取"
	}
	return "收到的是 " + ctype
}

func describeEN(ctype string) string {
	if ctype == "broken" {
		return "its header is an image's but it cannot be read"
	}
	return "this is " + ctype
}

// Photo returns a photo of a project in the principal's scope.
func (s *Service) Photo(ctx context.Context, id, photoID int64) (*Photo, error) {
	var ph Photo
	var village string
	err := s.pool.QueryRow(ctx, `SELECT f.id, f.filename, f.content_type, f.size_bytes, f.sha256, f.content, p.village_code
		FROM villageplan.project_photos f JOIN villageplan.construction_projects p ON p.id = f.project_id
		WHERE f.id = $1 AND f.project_id = $2`, photoID, id).Scan(&ph.ID, &ph.Filename, &ph.ContentType, &ph.SizeBytes, &ph.SHA256, &ph.Content, &village)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && !mayRead(auth.FromContext(ctx), village)) {
		return nil, notFound("photo", photoID)
	}
	return &ph, err
}
