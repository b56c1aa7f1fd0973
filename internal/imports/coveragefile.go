package imports

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5"
	orbwkb "github.com/paulmach/orb/encoding/wkb"

	"villageplan/internal/coverage"
)

// ReadCoverageFile reads the polygons of a coverage file (--coverage FILE,
// `villageplan coverage set LAYER FILE`) with the import readers: any
// format Import reads, in the file's own CRS (from its .prj, GeoPackage,
// GeoJSON crs member or default CRS84, 界址点 header). Attributes are
// ignored. PostGIS assembles, reprojects, checks and unions the polygons
// (coverage.Apply). Errors name the file and the feature, in Chinese and
// English; a file without a known CRS is refused.
func ReadCoverageFile(path string) (*coverage.FileData, error) {
	src, err := openSource(path, readerOptions{})
	if err != nil {
		return nil, err
	}
	defer src.Close()
	fd := &coverage.FileData{Path: path}
	var problems []string
	for {
		f, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		lbl := label(f)
		if f.Problem != "" {
			problems = append(problems, fmt.Sprintf("要素 %s：%s / feature %s: %s", lbl, f.Problem, lbl, f.Problem))
			continue
		}
		ff := coverage.FileFeature{Index: f.Index, Label: lbl, HasZ: f.HasZ, Rings: f.Rings}
		switch {
		case f.Geom != nil:
			if s := structureProblem(f.Geom); s != "" {
				problems = append(problems, fmt.Sprintf("要素 %s 图形有误 / feature %s: geometry %s", lbl, lbl, s))
				continue
			}
			b, err := orbwkb.Marshal(f.Geom, binary.LittleEndian)
			if err != nil {
				problems = append(problems, fmt.Sprintf("要素 %s 无法编码 / feature %s cannot be encoded: %v", lbl, lbl, err))
				continue
			}
			ff.WKB = b
		case f.WKB != nil:
			ff.WKB = f.WKB
		default:
			problems = append(problems, fmt.Sprintf("要素 %s 没有几何 / feature %s has no geometry", lbl, lbl))
			continue
		}
		fd.Features = append(fd.Features, ff)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("范围文件有 %d 个问题 / the coverage file has %d problem(s):\n  %s", len(problems), len(problems), joinLines(problems))
	}
	info := src.Info()
	if info.crsErr != nil {
		return nil, fmt.Errorf("坐标系未知：%s（%v）；请给文件加 .prj 或改用带坐标系的 GeoJSON/GeoPackage / unknown coordinate system: %s (%v); give the file a .prj or use a GeoJSON/GeoPackage that names its CRS",
			info.crsFound, info.crsErr, info.crsFound, info.crsErr)
	}
	if info.EPSG == 0 {
		return nil, fmt.Errorf("文件没有说明坐标系；请给文件加 .prj 或改用带坐标系的 GeoJSON/GeoPackage / the file does not say its coordinate system; give it a .prj or use a GeoJSON/GeoPackage that names its CRS")
	}
	fd.Format, fd.EPSG, fd.CRSFrom = info.Format, info.EPSG, info.CRSFrom
	return fd, nil
}

func joinLines(ss []string) string {
	out := ""
	for i, s := range ss {
		if i > 0 {
			out += "\n  "
		}
		out += s
	}
	return out
}

// recordCoverage records the import's coverage (Options.Coverage) in the
// import's transaction, after the features are inserted: a failed or
// dry-run import changes neither.
func (ld *loader) recordCoverage(ctx context.Context, tx pgx.Tx) error {
	rec, err := coverage.Apply(ctx, tx, ld.layer, ld.opts.Coverage, ld.opts.Mode == Replace, coverage.Env{
		Features: featTable, ReadFile: ReadCoverageFile, BatchID: ld.sum.BatchID, Actor: ld.opts.Actor,
	})
	if err != nil {
		return err
	}
	ld.sum.Coverage = rec
	return nil
}
