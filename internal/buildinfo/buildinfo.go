// Package buildinfo says which villageplan this binary is: the module
// version, the VCS revision and time it was built from, and the Go
// version, read from the build information the Go toolchain embeds
// (runtime/debug.ReadBuildInfo). `villageplan --version`, the
// villageplan_build_info metric and the landing page use it.
package buildinfo

import (
	"runtime/debug"
	"sync"
)

// Info identifies a build. Fields the toolchain did not record are
// "unknown" (e.g. a `go test` binary has no VCS revision).
type Info struct {
	Version   string `json:"version"`    // module version, "(devel)" for a checkout build
	Revision  string `json:"revision"`   // VCS commit, with "-dirty" when built from modified files
	Time      string `json:"time"`       // VCS commit time, RFC 3339
	GoVersion string `json:"go_version"` // e.g. "go1.26.8"
}

var (
	once sync.Once
	info Info
)

// Get returns the build information of the running binary.
func Get() Info {
	once.Do(func() {
		info = Info{Version: "unknown", Revision: "unknown", Time: "unknown", GoVersion: "unknown"}
		bi, ok := debug.ReadBuildInfo()
		if !ok {
			return
		}
		info.GoVersion = bi.GoVersion
		if bi.Main.Version != "" {
			info.Version = bi.Main.Version
		}
		dirty := false
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				info.Revision = s.Value
			case "vcs.time":
				info.Time = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if dirty && info.Revision != "unknown" {
			info.Revision += "-dirty"
		}
	})
	return info
}

// String is "villageplan VERSION (REVISION, TIME, GOVERSION)".
func (i Info) String() string {
	return "villageplan " + i.Version + " (" + i.Revision + ", " + i.Time + ", " + i.GoVersion + ")"
}
