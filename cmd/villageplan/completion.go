package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"villageplan/geo/crs"
	"villageplan/internal/auth"
	"villageplan/internal/exports"
	"villageplan/layers"
)

// Shell completion of flag values and arguments (`villageplan completion
// bash|zsh|fish|powershell` prints the script; cobra answers the shell
// through the hidden `__complete` command). The values come from the same
// declarations the commands check against — the layer catalog, the CRS
// table of geo/crs, the export formats, the roles of internal/auth — so a
// completion never offers what the command would refuse. Nothing here
// opens a database: completion must answer instantly and offline.

// flagValues maps a flag name to the completion of its value. A flag name
// means the same thing in every command that has it (checked by
// TestCompletionCoversValueFlags), except "format", which is per command.
var flagValues = map[string]cobra.CompletionFunc{
	"layer":        completeLayerIDs,
	"crs":          completeCRS,
	"encoding":     fixed("UTF-8\tUnicode", "GBK\t国标扩展 (Windows shapefiles)"),
	"mode":         fixed("append\tadd features, refuse existing keys", "replace\tswap the layer's content atomically", "upsert\tmerge by the layer's key"),
	"coverage":     completeCoverage,
	"log-format":   fixed("text", "json"),
	"log-level":    fixed("debug", "info", "warn", "error"),
	"sample-scale": fixed("township\t示例乡 (one township)", "county\t示例县 (benchmarks)", "county5\t五倍示例县 (growth benchmark)"),
	"access-log":   completeAccessLog,
	"role":         completeRoles,
	"rules":        fileExt("yaml", "yml", "json"),
	"output":       cobra.FixedCompletions(nil, cobra.ShellCompDirectiveDefault),
	"source-layer": cobra.NoFileCompletions,
}

// formatValues completes --format per command path.
var formatValues = map[string]cobra.CompletionFunc{
	"villageplan export": completeExportFormats,
	"villageplan check":  fixed("text\treadable report", "json\tthe check as JSON"),
}

// argValues completes positional arguments per command path; the index is
// the argument's position.
var argValues = map[string][]cobra.CompletionFunc{
	"villageplan coverage show":    {completeLayerIDs},
	"villageplan coverage clear":   {completeLayerIDs},
	"villageplan coverage set":     {completeLayerIDs, completeCoverage},
	"villageplan user add":         {cobra.NoFileCompletions},
	"villageplan user disable":     {cobra.NoFileCompletions},
	"villageplan user enable":      {cobra.NoFileCompletions},
	"villageplan user passwd":      {cobra.NoFileCompletions},
	"villageplan token create":     {cobra.NoFileCompletions},
	"villageplan token list":       {cobra.NoFileCompletions},
	"villageplan token revoke":     {cobra.NoFileCompletions},
	"villageplan user role add":    {cobra.NoFileCompletions, completeRoles},
	"villageplan user role remove": {cobra.NoFileCompletions, completeRoles},
	"villageplan import":           {fileExt("gpkg", "shp", "zip", "geojson", "json", "csv", "kml", "txt")},
	"villageplan check":            {fileExt("txt", "geojson", "json")},
}

// registerCompletions attaches the completions above to every command of
// the tree under root. It panics when a registration fails (a programming
// error caught by the tests).
func registerCompletions(root *cobra.Command) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		path := c.CommandPath()
		register := func(f string, fn cobra.CompletionFunc) {
			if c.Flags().Lookup(f) == nil && c.PersistentFlags().Lookup(f) == nil {
				return
			}
			if _, done := c.GetFlagCompletionFunc(f); done {
				return
			}
			if err := c.RegisterFlagCompletionFunc(f, fn); err != nil {
				panic(fmt.Sprintf("completion of --%s on %q: %v", f, path, err))
			}
		}
		if fn, ok := formatValues[path]; ok {
			register("format", fn)
		}
		for f, fn := range flagValues {
			// Persistent flags of the root are registered once, on the root.
			if c.HasParent() && c.Root().PersistentFlags().Lookup(f) != nil {
				continue
			}
			register(f, fn)
		}
		if fns, ok := argValues[path]; ok && c.ValidArgsFunction == nil {
			c.ValidArgsFunction = positional(fns)
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// positional completes argument i with fns[i], and nothing past the last.
func positional(fns []cobra.CompletionFunc) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) < len(fns) {
			return fns[len(args)](cmd, args, toComplete)
		}
		if len(fns) == 1 && strings.HasPrefix(cmd.Use, "import") {
			return fns[0](cmd, args, toComplete) // import takes several files
		}
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
}

func fixed(values ...string) cobra.CompletionFunc {
	return cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp)
}

func fileExt(exts ...string) cobra.CompletionFunc {
	return func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return exts, cobra.ShellCompDirectiveFilterFileExt
	}
}

// completeLayerIDs offers every catalog layer id with its Chinese title.
func completeLayerIDs(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
	var out []cobra.Completion
	for _, l := range layers.Default().Layers() {
		out = append(out, cobra.CompletionWithDesc(l.ID, l.TitleZH+" "+l.TitleEN))
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completeCRS offers CRS84 and EPSG:N for every code geo/crs supports
// (CGCS2000 geographic, the 3° and 6° Gauss-Krüger zones with and without
// zone prefix, WGS 84, Web Mercator), each with its EPSG name. A partial
// "EPSG:45" narrows the list the usual way (the shell filters by prefix).
func completeCRS(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	out := []cobra.Completion{cobra.CompletionWithDesc("CRS84", "WGS 84 longitude/latitude (GeoJSON default)")}
	for _, code := range crs.Supported() {
		c, ok := crs.Lookup(code)
		if !ok {
			continue
		}
		out = append(out, cobra.CompletionWithDesc(fmt.Sprintf("EPSG:%d", code), c.Name))
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

func completeExportFormats(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
	var out []cobra.Completion
	for _, f := range exports.Formats() {
		out = append(out, cobra.Completion(f))
	}
	out = append(out, cobra.CompletionWithDesc("pmtiles", "vector tiles of a tileset (--layer ID or map) as one PMTiles archive"))
	return out, cobra.ShellCompDirectiveNoFileComp
}

func completeRoles(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
	var out []cobra.Completion
	for _, r := range auth.AllRoles {
		out = append(out, cobra.CompletionWithDesc(string(r), r.Label()))
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completeCoverage offers the keywords of --coverage / `coverage set`;
// anything else is a polygon file, which the shell completes.
func completeCoverage(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
	return []cobra.Completion{
		cobra.CompletionWithDesc("township", "the union of the villages layer"),
		cobra.CompletionWithDesc("villages:", "villages:CODE,… (12-digit village codes)"),
		cobra.CompletionWithDesc("extent", "the data's convex hull"),
		cobra.CompletionWithDesc("features", "the imported features themselves"),
		cobra.CompletionWithDesc("none", "no coverage"),
	}, cobra.ShellCompDirectiveDefault
}

func completeAccessLog(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
	return []cobra.Completion{
		cobra.CompletionWithDesc("stderr", "standard error"),
		cobra.CompletionWithDesc("off", "no access log"),
	}, cobra.ShellCompDirectiveDefault
}
