package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"villageplan/internal/siting"
)

func newCheckCommand(g *globalFlags) *cobra.Command {
	var (
		crsName, household, village, format, rules string
		returnsOld, rebuild, save                  bool
	)
	cmd := &cobra.Command{
		Use:   "check FILE",
		Short: "siting check of a homestead site (GeoJSON or 界址点 txt) against the law",
		Long: `Checks a proposed homestead site, rule by rule, as the approval desk does.
FILE is a GeoJSON Polygon/MultiPolygon (geometry or Feature; --crs names its
CRS, default CRS84) or a 界址点坐标 txt file (one check per parcel). The exit
status is 0 when every check passes or only needs review/another approval,
3 when any check is BLOCK, 2 for a site that cannot be checked.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			raw, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			var sites []siting.Site
			trimmed := strings.TrimSpace(string(raw))
			if strings.HasPrefix(trimmed, "{") {
				s, err := siting.ParseGeoJSONSite(raw, crsName)
				if err != nil {
					return exitError(2, err)
				}
				sites = []siting.Site{s}
			} else {
				if sites, err = siting.ParseJZDSites(raw); err != nil {
					return exitError(2, err)
				}
			}
			rs, err := siting.DefaultRuleSet()
			if rules != "" {
				rs, err = siting.LoadRuleSetFile(rules)
			}
			if err != nil {
				return err
			}
			logger := g.logger()
			pool, closeDB, err := openDatabase(cmd.Context(), g, logger)
			if err != nil {
				return err
			}
			defer closeDB()
			svc := siting.NewService(pool, rs)
			in := siting.Input{HouseholdID: household, VillageCode: village, ReturnsOldHomestead: returnsOld, RebuildInPlace: rebuild}
			worst := siting.Pass
			var results []*siting.Result
			for _, s := range sites {
				res, err := svc.Check(cmd.Context(), s, in)
				if err != nil {
					return exitError(2, err)
				}
				if save {
					if err := svc.Save(cmd.Context(), s, res); err != nil {
						return err
					}
				}
				if res.Verdict.Severity() > worst.Severity() {
					worst = res.Verdict
				}
				results = append(results, res)
			}
			if format == "json" {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				enc.SetEscapeHTML(false)
				if len(results) == 1 {
					_ = enc.Encode(results[0])
				} else {
					_ = enc.Encode(map[string]any{"checks": results})
				}
			} else {
				for _, res := range results {
					printText(cmd.OutOrStdout(), res)
				}
			}
			if worst == siting.Block {
				return exitError(3, nil)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&crsName, "crs", "", "CRS of a GeoJSON site (EPSG:N or OGC URI); default CRS84")
	cmd.Flags().StringVar(&household, "household", "", "applicant household id (户编号), for 一户一宅")
	cmd.Flags().StringVar(&village, "village", "", "12-digit village code applied in")
	cmd.Flags().BoolVar(&returnsOld, "returns-old", false, "the application gives back the old homestead")
	cmd.Flags().BoolVar(&rebuild, "rebuild-in-place", false, "the application rebuilds on the old homestead")
	cmd.Flags().StringVar(&format, "format", "text", "output: text or json")
	cmd.Flags().StringVar(&rules, "rules", "", "rule-set file (default: the one shipped with the binary)")
	cmd.Flags().BoolVar(&save, "save", false, "store the check (as the desk does) so its report can be printed")
	return cmd
}

// printText writes a check as text: the verdict, the site, one line per
// rule, and under a rule that used a placeholder limit, its note.
func printText(w io.Writer, res *siting.Result) {
	label := res.Site.Label
	if label == "" {
		label = "选址"
	}
	fmt.Fprintf(w, "%s：%s %s（%s）\n", label, res.Verdict, res.Verdict.ZH(), res.Site.VillageName)
	fmt.Fprintf(w, "  面积 %.2f m²（EPSG:%d）  中心 %.6f, %.6f\n", res.Site.AreaM2, res.Site.MeasureEPSG, res.Site.CentroidLon, res.Site.CentroidLat)
	for _, r := range res.Rules {
		m := ""
		if r.Measured != nil {
			m = fmt.Sprintf("%.2f %s", *r.Measured, r.Unit)
		}
		fmt.Fprintf(w, "  %-11s %-8s %-28s %-14s %s\n", r.Outcome, r.Outcome.ZH(), r.TitleZH, m, r.MessageZH)
		if r.Placeholder {
			fmt.Fprintf(w, "  %-11s 暂定限值：%s\n", "", r.PlaceholderNote)
		}
	}
	if res.NoCoverageZH != "" {
		fmt.Fprintf(w, "  %s\n  %s\n", res.NoCoverageZH, res.NoCoverageEN)
	}
	if res.Placeholders {
		fmt.Fprintln(w, "  注意：使用了待本地确认的暂定数值")
	}
	if res.ID > 0 {
		fmt.Fprintf(w, "  审查编号 %d\n", res.ID)
	}
}

// exitCodeError carries a process exit status.
type exitCodeError struct {
	code int
	err  error
}

func (e *exitCodeError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func exitError(code int, err error) error { return &exitCodeError{code: code, err: err} }

// exitStatus maps an error returned by a command to the process status.
func exitStatus(err error) (int, bool) {
	var ec *exitCodeError
	if errors.As(err, &ec) {
		return ec.code, ec.err == nil
	}
	return 1, false
}
