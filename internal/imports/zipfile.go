package imports

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"

	"villageplan/internal/exchange"
)

// Limits on what a zipped shapefile may unpack to (package variables so
// that tests can lower them). A shapefile's .shp and .dbf are at most
// 2 GB each by the ESRI specification (offsets are 32-bit counts of 16-bit
// words; GDAL allows 4 GB); .prj, .cpg and .shx are small.
var (
	zipMaxMember  int64 = 4 << 30 // .shp, .dbf, .shx
	zipMaxSidecar int64 = 1 << 20 // .prj, .cpg
	zipMaxTotal   int64 = 8 << 30 // everything unpacked from one archive
)

// shapefile members taken from a zip, by lower-case extension.
var zipMembers = map[string]bool{".shp": true, ".shx": true, ".dbf": true, ".prj": true, ".cpg": true}

// openZippedShapefile reads a shapefile packed in a .zip, as surveyors and
// 自然资源 offices send them: the members may sit in a sub-folder and have
// upper-case extensions; GB-encoded member names (zips made on Chinese
// Windows) are accepted. With several shapefiles in the archive,
// --source-layer chooses one by name (with or without its folder),
// otherwise the import is refused with the list.
//
// Safety: the archive's own names are never used as paths. Only the
// chosen shapefile's members are unpacked, into a new temporary folder
// (removed by Close) under fixed names; a member name that is absolute or
// climbs out of the archive ("../") refuses the whole archive; each member's
// declared size is checked against the limits above before anything is
// written, and archive/zip stops any member that inflates beyond its
// declared size (a zip bomb) with an error.
func openZippedShapefile(zipPath string, ro readerOptions) (source, error) {
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		return nil, fmt.Errorf("%s: not a readable zip archive (无法读取的压缩包): %w", zipPath, err)
	}
	defer zr.Close()
	type member struct {
		f    *zip.File
		name string // decoded, slash-separated
		ext  string // lower case
		key  string // folder/base, lower case
	}
	byKey := map[string][]member{} // folder/base → members
	var names []string
	for _, f := range zr.File {
		name := f.Name
		if !utf8.ValidString(name) {
			if d, err := exchange.Decode(exchange.GBK, []byte(name)); err == nil {
				name = d
			}
		}
		name = strings.ReplaceAll(name, `\`, "/")
		if strings.HasSuffix(name, "/") || f.FileInfo().IsDir() {
			continue
		}
		if c := path.Clean(name); path.IsAbs(name) || c == ".." || strings.HasPrefix(c, "../") || (len(name) > 1 && name[1] == ':') {
			return nil, fmt.Errorf("%s: member %q points outside the archive; such archives are refused (压缩包内文件路径越界，拒绝导入)", zipPath, f.Name)
		}
		base := path.Base(name)
		if strings.HasPrefix(name, "__MACOSX/") || strings.HasPrefix(base, "._") {
			continue // macOS resource forks
		}
		ext := strings.ToLower(path.Ext(base))
		if !zipMembers[ext] {
			names = append(names, name)
			continue
		}
		m := member{f: f, name: name, ext: ext, key: strings.ToLower(strings.TrimSuffix(name, path.Ext(name)))}
		byKey[m.key] = append(byKey[m.key], m)
		names = append(names, name)
	}
	var shps []member
	for _, ms := range byKey {
		for _, m := range ms {
			if m.ext == ".shp" {
				shps = append(shps, m)
			}
		}
	}
	sort.Slice(shps, func(i, j int) bool { return shps[i].name < shps[j].name })
	if len(shps) == 0 {
		sort.Strings(names)
		return nil, fmt.Errorf("%s: the archive holds no shapefile (.shp) (压缩包内没有 .shp 文件); it holds: %s", zipPath, list(names, 20))
	}
	var layerNames []string
	for _, m := range shps {
		layerNames = append(layerNames, strings.TrimSuffix(m.name, path.Ext(m.name)))
	}
	chosen := -1
	if ro.sourceLayer != "" {
		want := strings.ToLower(strings.TrimSuffix(strings.ReplaceAll(ro.sourceLayer, `\`, "/"), path.Ext(ro.sourceLayer)))
		if !strings.EqualFold(path.Ext(ro.sourceLayer), ".shp") {
			want = strings.ToLower(strings.ReplaceAll(ro.sourceLayer, `\`, "/"))
		}
		var hits []int
		for i, m := range shps {
			if m.key == want || strings.ToLower(path.Base(layerNames[i])) == want {
				hits = append(hits, i)
			}
		}
		switch len(hits) {
		case 0:
			return nil, fmt.Errorf("%s: no shapefile %q in the archive (压缩包内没有该图层); it holds: %s", zipPath, ro.sourceLayer, strings.Join(layerNames, ", "))
		case 1:
			chosen = hits[0]
		default:
			return nil, fmt.Errorf("%s: several shapefiles are called %q (重名图层，请带文件夹指定); name one with its folder: --source-layer %s", zipPath, ro.sourceLayer, layerNames[hits[0]])
		}
	} else if len(shps) > 1 {
		return nil, fmt.Errorf("%s: the archive holds %d shapefiles: %s; choose one with --source-layer NAME (压缩包内有多个图层，请用 --source-layer 指定)",
			zipPath, len(shps), strings.Join(layerNames, ", "))
	} else {
		chosen = 0
	}
	pick := shps[chosen]

	// Unpack the chosen shapefile's members under fixed names.
	dir, err := os.MkdirTemp("", "villageplan-zip-")
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(dir)
		}
	}()
	var total int64
	seen := map[string]bool{}
	for _, m := range byKey[pick.key] {
		if seen[m.ext] {
			return nil, fmt.Errorf("%s: the archive holds two %s files for %s (同名文件重复)", zipPath, m.ext, pick.name)
		}
		seen[m.ext] = true
		limit := zipMaxMember
		if m.ext == ".prj" || m.ext == ".cpg" {
			limit = zipMaxSidecar
		}
		size := int64(m.f.UncompressedSize64)
		if m.f.UncompressedSize64 > uint64(limit) {
			return nil, fmt.Errorf("%s: member %s would unpack to %d bytes, more than the %d allowed for a %s file; refused (压缩包内文件过大)", zipPath, m.name, m.f.UncompressedSize64, limit, m.ext)
		}
		if total += size; total > zipMaxTotal {
			return nil, fmt.Errorf("%s: the shapefile would unpack to more than %d bytes; refused (压缩包解压后过大)", zipPath, zipMaxTotal)
		}
		if err := unpackMember(m.f, filepath.Join(dir, "layer"+m.ext), size); err != nil {
			return nil, fmt.Errorf("%s: member %s: %w", zipPath, m.name, err)
		}
	}
	src, err := openShapefileAt(filepath.Join(dir, "layer.shp"), zipPath+"/"+pick.name, ro)
	if err != nil {
		return nil, err
	}
	s := src.(*shapefileSource)
	s.tmpDir = dir
	s.info.Layer = strings.TrimSuffix(pick.name, path.Ext(pick.name))
	ok = true
	return s, nil
}

// unpackMember copies one zip member to dst, refusing more bytes than the
// member declares (archive/zip also fails such a member with ErrFormat).
func unpackMember(f *zip.File, dst string, declared int64) error {
	rc, err := f.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	n, err := io.Copy(out, io.LimitReader(rc, declared+1))
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		if errors.Is(err, zip.ErrFormat) || errors.Is(err, zip.ErrChecksum) {
			return fmt.Errorf("damaged or forged member (压缩包文件损坏或大小被伪造): it does not unpack to its declared %d bytes: %w", declared, err)
		}
		return err
	}
	if n != declared {
		return fmt.Errorf("damaged or forged member (压缩包文件损坏或大小被伪造): it unpacks to %d bytes, it declares %d", n, declared)
	}
	return nil
}

// list joins at most n names.
func list(names []string, n int) string {
	if len(names) == 0 {
		return "nothing"
	}
	if len(names) > n {
		return strings.Join(names[:n], ", ") + fmt.Sprintf(" … (%d in all)", len(names))
	}
	return strings.Join(names, ", ")
}
