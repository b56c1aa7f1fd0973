// Package web is the planners' web map (/map) and the homestead-approval
// desk page (/desk) that the binary serves itself, so that they work on a
// government intranet with no internet: every page, script, stylesheet and
// the MapLibre GL JS build are embedded (go:embed) and nothing is fetched
// from another host.
//
// The pages are static files under static/; what they show comes from the
// service at run time:
//   - the MapLibre style /styles/default.json and the "map" vector tiles
//     (package tiles);
//   - the layer panel, legends' value names and popup titles from the
//     layer catalog through [BuildMeta] (never a personal field);
//   - village search and the streetlight-coverage view from PostGIS through
//     [Store];
//   - site previews and checks from the siting API.
//
// MapLibre GL JS is vendored from the npm package at a pinned version by
// update-maplibre.sh (static/vendor/maplibre-gl, with its licence), and
// the drawing library of the map's editing mode (js/edit.js, loaded only
// for an account that may edit a layer), terra-draw with its MapLibre
// adapter, by update-terradraw.sh (static/vendor/terra-draw, MIT).
package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
)

//go:embed static
var staticFiles embed.FS

// VendorDir is the folder of vendored third-party code inside the static
// files; it does not count towards the page-code budget.
const VendorDir = "vendor"

// Static returns the embedded static files (pages, scripts, styles and the
// vendored MapLibre build), rooted at the static folder.
func Static() fs.FS {
	sub, err := fs.Sub(staticFiles, "static")
	if err != nil {
		panic(err) // the embed pattern guarantees the folder
	}
	return sub
}

// asset is one embedded file prepared for serving: its bytes, a gzip copy
// made on first use, its media type and a strong ETag of its content.
type asset struct {
	body  []byte
	ctype string
	etag  string
	once  sync.Once
	gz    []byte
}

func (a *asset) gzipped() []byte {
	a.once.Do(func() {
		var b bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
		_, _ = zw.Write(a.body)
		_ = zw.Close()
		if b.Len() < len(a.body) {
			a.gz = b.Bytes()
		}
	})
	return a.gz
}

// Assets serves the embedded static files. Every answer carries a strong
// ETag of the content and "Cache-Control: no-cache", so a browser keeps
// its copy and revalidates it (304) cheaply, and a new binary is seen at
// once; text files are gzip-compressed once, on first request, when the
// client accepts gzip.
type Assets struct {
	files map[string]*asset
}

// NewAssets indexes the embedded static files.
func NewAssets() *Assets {
	a := &Assets{files: map[string]*asset{}}
	root := Static()
	err := fs.WalkDir(root, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(root, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		a.files[p] = &asset{body: b, ctype: mediaType(p), etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
		return nil
	})
	if err != nil {
		panic(err) // embedded files are always readable
	}
	return a
}

// mediaType is the Content-Type of an embedded file by its extension.
func mediaType(p string) string {
	switch path.Ext(p) {
	case ".mjs", ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".html":
		return "text/html; charset=utf-8"
	case ".txt", "":
		return "text/plain; charset=utf-8"
	case ".json":
		return "application/json"
	case ".svg":
		return "image/svg+xml"
	}
	if t := mime.TypeByExtension(path.Ext(p)); t != "" {
		return t
	}
	return "application/octet-stream"
}

// Has reports whether name (slash-separated, relative to static/) is an
// embedded file.
func (a *Assets) Has(name string) bool { _, ok := a.files[name]; return ok }

// Serve writes the embedded file name (relative to static/) or a 404; it
// answers 304 when If-None-Match matches.
func (a *Assets) Serve(w http.ResponseWriter, r *http.Request, name string) {
	f, ok := a.files[strings.TrimPrefix(path.Clean("/"+name), "/")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.ctype)
	h.Set("ETag", f.etag)
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Add("Vary", "Accept-Encoding")
	if etagMatch(r.Header.Get("If-None-Match"), f.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := f.body
	if strings.HasPrefix(f.ctype, "text/") || f.ctype == "application/json" || f.ctype == "image/svg+xml" {
		if gz := f.gzipped(); gz != nil && acceptsGzip(r.Header.Get("Accept-Encoding")) {
			h.Set("Content-Encoding", "gzip")
			body = gz
		}
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// PageCodeBytes is the size in bytes of the pages' own code: every
// embedded file outside the vendor folder (HTML, JavaScript, CSS), raw and
// gzip-compressed.
func (a *Assets) PageCodeBytes() (raw, gz int) {
	for p, f := range a.files {
		if strings.HasPrefix(p, VendorDir+"/") {
			continue
		}
		raw += len(f.body)
		if g := f.gzipped(); g != nil {
			gz += len(g)
		} else {
			gz += len(f.body)
		}
	}
	return raw, gz
}

func etagMatch(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == etag {
			return true
		}
	}
	return false
}

// acceptsGzip reports whether an Accept-Encoding header allows gzip
// ("gzip", "x-gzip" or "*" with a non-zero q, RFC 9110 §12.5.3).
func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		if coding != "gzip" && coding != "x-gzip" && coding != "*" {
			continue
		}
		q := 1.0
		if k, v, ok := strings.Cut(strings.TrimSpace(params), "="); ok && strings.EqualFold(strings.TrimSpace(k), "q") {
			if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
				q = f
			}
		}
		return q > 0
	}
	return false
}
