package pgcluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// DefaultPostGISPackage is the Debian package suggested when PostgreSQL or
// PostGIS cannot be found and the installed PostgreSQL major version is unknown.
const DefaultPostGISPackage = "postgresql-15-postgis-3"

// Binaries describes the PostgreSQL server programs a Cluster uses.
type Binaries struct {
	// BinDir is the directory holding the server programs.
	BinDir string
	// Initdb, PgCtl, Postgres and Psql are absolute paths of the programs.
	// Psql may be empty when no psql client was found.
	Initdb, PgCtl, Postgres, Psql string
	// Version is the full version string reported by "postgres --version",
	// e.g. "15.18 (Debian 15.18-0+deb12u1)".
	Version string
	// Major is the major version (e.g. 15).
	Major int
	// ShareDir is the installation's share directory (pg_config --sharedir),
	// where extension control files live under "extension/". May be empty if
	// it could not be determined.
	ShareDir string
}

// PostGISPackage returns the Debian package providing PostGIS for these
// binaries, e.g. "postgresql-15-postgis-3".
func (b *Binaries) PostGISPackage() string {
	if b == nil || b.Major == 0 {
		return DefaultPostGISPackage
	}
	return fmt.Sprintf("postgresql-%d-postgis-3", b.Major)
}

// PostGISInstalled reports whether postgis.control exists in the
// installation's extension directory, and the path that was checked. When the
// share directory is unknown it returns true and an empty path (the caller
// then has to rely on CREATE EXTENSION failing).
func (b *Binaries) PostGISInstalled() (bool, string) {
	if b.ShareDir == "" {
		return true, ""
	}
	p := filepath.Join(b.ShareDir, "extension", "postgis.control")
	_, err := os.Stat(p)
	return err == nil, p
}

// serverPrograms are the programs that must all be present in a bindir.
var serverPrograms = []string{"initdb", "pg_ctl", "postgres"}

// FindBinaries locates the PostgreSQL server programs. If binDir is not empty
// only that directory is considered. Otherwise it tries, in order, the
// directory reported by "pg_config --bindir", the newest
// /usr/lib/postgresql/*/bin, and $PATH.
func FindBinaries(binDir string) (*Binaries, error) {
	var tried []string
	if binDir != "" {
		b, err := binariesIn(binDir)
		if err != nil {
			return nil, fmt.Errorf("pgcluster: PostgreSQL bindir %s is not usable: %w; install the server with: apt-get install postgresql %s",
				binDir, err, DefaultPostGISPackage)
		}
		return b, nil
	}

	// 1. pg_config --bindir
	if pgConfig, err := exec.LookPath("pg_config"); err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		out, err := exec.CommandContext(ctx, pgConfig, "--bindir").Output()
		cancel()
		if err == nil {
			dir := strings.TrimSpace(string(out))
			if b, err := binariesIn(dir); err == nil {
				return b, nil
			} else {
				tried = append(tried, fmt.Sprintf("pg_config --bindir (%s): %v", dir, err))
			}
		} else {
			tried = append(tried, fmt.Sprintf("%s --bindir: %v", pgConfig, err))
		}
	} else {
		tried = append(tried, "pg_config: not in $PATH")
	}

	// 2. newest /usr/lib/postgresql/*/bin
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionLess(dirs[j], dirs[i]) })
	for _, dir := range dirs {
		b, err := binariesIn(dir)
		if err == nil {
			return b, nil
		}
		tried = append(tried, fmt.Sprintf("%s: %v", dir, err))
	}
	if len(dirs) == 0 {
		tried = append(tried, "/usr/lib/postgresql/*/bin: no such directories")
	}

	// 3. $PATH
	paths := map[string]string{}
	var missing []string
	for _, prog := range serverPrograms {
		p, err := exec.LookPath(prog)
		if err != nil {
			missing = append(missing, prog)
			continue
		}
		if abs, err := filepath.Abs(p); err == nil {
			p = abs
		}
		paths[prog] = p
	}
	if len(missing) == 0 {
		b := &Binaries{
			BinDir:   filepath.Dir(paths["pg_ctl"]),
			Initdb:   paths["initdb"],
			PgCtl:    paths["pg_ctl"],
			Postgres: paths["postgres"],
		}
		if err := b.fill(); err == nil {
			return b, nil
		} else {
			tried = append(tried, fmt.Sprintf("$PATH: %v", err))
		}
	} else {
		tried = append(tried, fmt.Sprintf("$PATH: %s not found", strings.Join(missing, ", ")))
	}

	return nil, fmt.Errorf("pgcluster: PostgreSQL server programs (%s) not found (tried: %s); install them with: apt-get install postgresql %s",
		strings.Join(serverPrograms, ", "), strings.Join(tried, "; "), DefaultPostGISPackage)
}

// binariesIn returns the Binaries in dir, or an error naming what is missing.
func binariesIn(dir string) (*Binaries, error) {
	if dir == "" {
		return nil, errors.New("empty directory name")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	b := &Binaries{BinDir: abs}
	var missing []string
	for _, prog := range serverPrograms {
		p := filepath.Join(abs, prog)
		if !isExecutable(p) {
			missing = append(missing, prog)
			continue
		}
		switch prog {
		case "initdb":
			b.Initdb = p
		case "pg_ctl":
			b.PgCtl = p
		case "postgres":
			b.Postgres = p
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("missing %s", strings.Join(missing, ", "))
	}
	if err := b.fill(); err != nil {
		return nil, err
	}
	return b, nil
}

var versionRe = regexp.MustCompile(`\(PostgreSQL\)\s+((\d+)(?:\.\d+)?.*)$`)

// fill determines Version, Major, ShareDir and Psql.
func (b *Binaries) fill() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, b.Postgres, "--version").Output()
	if err != nil {
		return fmt.Errorf("%s --version: %w", b.Postgres, err)
	}
	line := strings.TrimSpace(string(bytes.SplitN(out, []byte("\n"), 2)[0]))
	m := versionRe.FindStringSubmatch(line)
	if m == nil {
		return fmt.Errorf("%s --version: cannot parse %q", b.Postgres, line)
	}
	b.Version = strings.TrimSpace(m[1])
	b.Major, _ = strconv.Atoi(m[2])

	if p := filepath.Join(b.BinDir, "psql"); isExecutable(p) {
		b.Psql = p
	} else if p, err := exec.LookPath("psql"); err == nil {
		b.Psql = p
	}

	if p := filepath.Join(b.BinDir, "pg_config"); isExecutable(p) {
		if out, err := exec.CommandContext(ctx, p, "--sharedir").Output(); err == nil {
			b.ShareDir = strings.TrimSpace(string(out))
		}
	}
	if b.ShareDir == "" {
		for _, cand := range []string{
			fmt.Sprintf("/usr/share/postgresql/%d", b.Major),
			filepath.Join(filepath.Dir(b.BinDir), "share", "postgresql"),
			filepath.Join(filepath.Dir(b.BinDir), "share"),
		} {
			if st, err := os.Stat(filepath.Join(cand, "extension")); err == nil && st.IsDir() {
				b.ShareDir = cand
				break
			}
		}
	}
	return nil
}

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular() && st.Mode().Perm()&0o111 != 0
}

// versionLess compares two /usr/lib/postgresql/<ver>/bin paths by version.
func versionLess(a, b string) bool {
	va := filepath.Base(filepath.Dir(a))
	vb := filepath.Base(filepath.Dir(b))
	fa, ea := strconv.ParseFloat(va, 64)
	fb, eb := strconv.ParseFloat(vb, 64)
	switch {
	case ea == nil && eb == nil:
		return fa < fb
	case ea == nil:
		return false // numeric versions sort above non-numeric names
	case eb == nil:
		return true
	default:
		return va < vb
	}
}
