package applications

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"path"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"villageplan/internal/auth"
)

// DocumentKind is what an uploaded document is.
type DocumentKind string

// The kinds of documents (DOMAIN.md §2 Documents; 三到场 photos).
const (
	DocHukou           DocumentKind = "hukou"            // 家庭户口簿
	DocIDCard          DocumentKind = "id_card"          // 户主身份证
	DocPledge          DocumentKind = "pledge"           // 农村宅基地使用承诺书
	DocPhotoReview     DocumentKind = "photo_review"     // 审查到场照片
	DocPhotoStaking    DocumentKind = "photo_staking"    // 丈量批放照片
	DocPhotoInspection DocumentKind = "photo_inspection" // 竣工验收照片
	DocOther           DocumentKind = "other"            // 其他材料
)

// RequiredDocuments must be uploaded before 乡镇受理.
var RequiredDocuments = []DocumentKind{DocHukou, DocIDCard, DocPledge}

var documentLabel = map[DocumentKind]string{DocHukou: "家庭户口簿", DocIDCard: "户主身份证", DocPledge: "农村宅基地使用承诺书",
	DocPhotoReview: "审查到场照片", DocPhotoStaking: "丈量批放照片", DocPhotoInspection: "竣工验收照片", DocOther: "其他材料"}

// Label is the kind's Chinese name.
func (k DocumentKind) Label() string { return documentLabel[k] }

// AllowedContentTypes are the types a document may have, as sniffed from
// its first bytes (http.DetectContentType), never as the client says.
var AllowedContentTypes = []string{"application/pdf", "image/jpeg", "image/png"}

// DocumentMeta describes a stored document (without its content).
type DocumentMeta struct {
	ID          int64        `json:"id"`
	Kind        DocumentKind `json:"kind"`
	KindLabel   string       `json:"kind_label"`
	Filename    string       `json:"filename"`
	ContentType string       `json:"content_type"`
	SizeBytes   int64        `json:"size_bytes"`
	SHA256      string       `json:"sha256"`
	UploadedBy  string       `json:"uploaded_by"`
	UploadedAt  time.Time    `json:"uploaded_at"`
}

// Document is a stored document with its content.
type Document struct {
	DocumentMeta
	Content []byte `json:"-"`
}

func listDocuments(ctx context.Context, q pgx.Tx, id int64) ([]DocumentMeta, error) {
	rows, err := q.Query(ctx, `SELECT id, kind, filename, content_type, size_bytes, sha256, uploaded_by, uploaded_at
		FROM villageplan.application_documents WHERE application_id = $1 ORDER BY id`, id)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (DocumentMeta, error) {
		var d DocumentMeta
		err := r.Scan(&d.ID, &d.Kind, &d.Filename, &d.ContentType, &d.SizeBytes, &d.SHA256, &d.UploadedBy, &d.UploadedAt)
		d.KindLabel = d.Kind.Label()
		return d, err
	})
}

func documentKinds(ctx context.Context, tx pgx.Tx, id int64) ([]DocumentKind, error) {
	rows, err := tx.Query(ctx, `SELECT DISTINCT kind FROM villageplan.application_documents WHERE application_id = $1`, id)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[DocumentKind])
}

// MaxDocumentBytes is the configured cap of one document.
func (s *Service) MaxDocumentBytes() int64 { return s.cfg.MaxDocumentBytes }

// TooLarge is the 413 of a document over the cap.
func (s *Service) TooLarge() *Error {
	return &Error{Status: http.StatusRequestEntityTooLarge, Code: "TooLarge", Field: "(the request body)",
		ZH: fmt.Sprintf("文件超过上限 %d 字节（%.1f MiB）", s.cfg.MaxDocumentBytes, float64(s.cfg.MaxDocumentBytes)/(1<<20)),
		EN: fmt.Sprintf("the file is larger than the limit of %d bytes (%.1f MiB)", s.cfg.MaxDocumentBytes, float64(s.cfg.MaxDocumentBytes)/(1<<20))}
}

// AddDocument stores a document of kind for application id: its type is
// sniffed from its content (PDF, JPEG or PNG only, 415 otherwise, whatever
// the client claims), its size capped (413), its SHA-256 kept. Any desk
// role of the application's village may upload.
func (s *Service) AddDocument(ctx context.Context, id int64, kind DocumentKind, filename string, content []byte) (*DocumentMeta, error) {
	if _, ok := documentLabel[kind]; !ok {
		var ks []string
		for _, k := range []DocumentKind{DocHukou, DocIDCard, DocPledge, DocPhotoReview, DocPhotoStaking, DocPhotoInspection, DocOther} {
			ks = append(ks, string(k))
		}
		return nil, fieldErr("kind", "未知材料类型 %q（可用：%s）", "unknown document kind %q (kinds: %s)", kind, strings.Join(ks, ", "))
	}
	filename = path.Base(strings.ReplaceAll(strings.TrimSpace(filename), "\\", "/"))
	if filename == "." || filename == "/" || filename == "" {
		filename = string(kind)
	}
	if !utf8.ValidString(filename) || strings.ContainsRune(filename, 0) || len(filename) > 255 {
		return nil, fieldErr("filename", "文件名须为 255 字节以内的有效 UTF-8 文本", "must be valid UTF-8 of at most 255 bytes")
	}
	if int64(len(content)) > s.cfg.MaxDocumentBytes {
		return nil, s.TooLarge()
	}
	if len(content) == 0 {
		return nil, fieldErr("(the request body)", "文件为空", "the file is empty")
	}
	ctype := http.DetectContentType(content)
	if i := strings.IndexByte(ctype, ';'); i >= 0 {
		ctype = ctype[:i]
	}
	allowed := false
	for _, t := range AllowedContentTypes {
		allowed = allowed || t == ctype
	}
	if !allowed {
		return nil, &Error{Status: http.StatusUnsupportedMediaType, Code: "UnsupportedMediaType", Field: "(the request body)",
			ZH: fmt.Sprintf("文件内容识别为 %s，只接受 PDF、JPEG 或 PNG（按文件内容识别，不看文件名和 Content-Type）", ctype),
			EN: fmt.Sprintf("the content is %s; only PDF, JPEG or PNG are accepted (judged by the content, not the name or Content-Type)", ctype)}
	}
	sum := sha256.Sum256(content)
	meta := &DocumentMeta{Kind: kind, KindLabel: kind.Label(), Filename: filename, ContentType: ctype, SizeBytes: int64(len(content)),
		SHA256: hex.EncodeToString(sum[:]), UploadedBy: actorName(ctx)}
	p := auth.FromContext(ctx)
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var village string
		err := tx.QueryRow(ctx, `SELECT village_code FROM villageplan.applications WHERE id = $1`, id).Scan(&village)
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound(id)
		}
		if err != nil {
			return err
		}
		if !p.HasAnyFor(auth.DeskRoles, village) {
			return scopeErr(p, village, auth.DeskRoles, "上传材料")
		}
		if err := tx.QueryRow(ctx, `INSERT INTO villageplan.application_documents (application_id, kind, filename, content_type, size_bytes, sha256, content, uploaded_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id, uploaded_at`, id, kind, filename, ctype, meta.SizeBytes, meta.SHA256, content, meta.UploadedBy).
			Scan(&meta.ID, &meta.UploadedAt); err != nil {
			return err
		}
		return auth.Audit(ctx, tx, requestOf(ctx), auth.AuditEntry{Action: "application.document.add", SubjectKind: "application",
			SubjectID: fmt.Sprint(id), Village: village, PersonalData: true, Details: map[string]any{"document": meta.ID, "kind": kind, "sha256": meta.SHA256}})
	})
	if err != nil {
		return nil, err
	}
	return meta, nil
}

// Documents lists the documents of application id (desk roles of its
// village; the read is audited).
func (s *Service) Documents(ctx context.Context, id int64) ([]DocumentMeta, error) {
	var out []DocumentMeta
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		village, err := s.scopeOf(ctx, tx, id, "查看材料")
		if err != nil {
			return err
		}
		if out, err = listDocuments(ctx, tx, id); err != nil {
			return err
		}
		return auth.Audit(ctx, tx, requestOf(ctx), auth.AuditEntry{Action: "application.document.list", SubjectKind: "application",
			SubjectID: fmt.Sprint(id), Village: village, PersonalData: true})
	})
	return out, err
}

// Document returns one document with its content (desk roles of the
// application's village; the read is audited).
func (s *Service) Document(ctx context.Context, id, docID int64) (*Document, error) {
	var d Document
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		village, err := s.scopeOf(ctx, tx, id, "查看材料")
		if err != nil {
			return err
		}
		err = tx.QueryRow(ctx, `SELECT id, kind, filename, content_type, size_bytes, sha256, uploaded_by, uploaded_at, content
			FROM villageplan.application_documents WHERE application_id = $1 AND id = $2`, id, docID).
			Scan(&d.ID, &d.Kind, &d.Filename, &d.ContentType, &d.SizeBytes, &d.SHA256, &d.UploadedBy, &d.UploadedAt, &d.Content)
		if errors.Is(err, pgx.ErrNoRows) {
			return &Error{Status: http.StatusNotFound, Code: "NotFound", ZH: fmt.Sprintf("申请 %d 没有材料 %d", id, docID), EN: fmt.Sprintf("application %d has no document %d", id, docID)}
		}
		if err != nil {
			return err
		}
		d.KindLabel = d.Kind.Label()
		return auth.Audit(ctx, tx, requestOf(ctx), auth.AuditEntry{Action: "application.document.read", SubjectKind: "application",
			SubjectID: fmt.Sprint(id), Village: village, PersonalData: true, Details: map[string]any{"document": docID}})
	})
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// scopeOf is the village of application id when the principal has a desk
// role for it (404 / 403 otherwise).
func (s *Service) scopeOf(ctx context.Context, tx pgx.Tx, id int64, what string) (string, error) {
	var village string
	err := tx.QueryRow(ctx, `SELECT village_code FROM villageplan.applications WHERE id = $1`, id).Scan(&village)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", notFound(id)
	}
	if err != nil {
		return "", err
	}
	p := auth.FromContext(ctx)
	if !p.HasAnyFor(auth.DeskRoles, village) {
		return "", scopeErr(p, village, auth.DeskRoles, what)
	}
	return village, nil
}
