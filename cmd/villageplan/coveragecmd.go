package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/cobra"

	"villageplan/internal/coverage"
	"villageplan/internal/imports"
	"villageplan/layers"
)

func newCoverageCommand(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "coverage list|show|set|clear",
		Short: "where each layer's data is complete (siting answers REVIEW 无数据 outside it)",
		Long: `The data steward's view of villageplan.layer_coverage: where each layer's
data is complete. A siting rule that reads a layer answers REVIEW "无数据"
(no data) for a site outside the layer's coverage, never PASS. Imports
record coverage (--coverage); these commands read and change it.

  villageplan coverage list
  villageplan coverage show LAYER [--geojson] [--json]
  villageplan coverage set LAYER township|villages:CODE,…|FILE|extent|features [--append]
  villageplan coverage clear LAYER

Specs: township = the union of the villages layer; villages:CODE,… = those
villages (12-digit xzqdm); FILE = the polygons of a file in any format and
CRS the importer reads; extent = the convex hull of the layer's data;
features = the layer's own features (polygon layers). set replaces the
coverage, or extends it (ST_Union) with --append.`,
	}
	cmd.AddCommand(coverageList(g), coverageShow(g), coverageSet(g), coverageClear(g))
	return cmd
}

// layerAndDatabase looks up the layer named id and opens the database of
// g; closeDB releases it.
func layerAndDatabase(cmd *cobra.Command, g *globalFlags, id string) (*layers.Layer, *pgxpool.Pool, func(), error) {
	l, err := catalogLayer(id)
	if err != nil {
		return nil, nil, nil, err
	}
	pool, closeDB, err := openDatabase(cmd.Context(), g, g.logger())
	if err != nil {
		return nil, nil, nil, err
	}
	return l, pool, closeDB, nil
}

func coverageList(g *globalFlags) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "list every layer's coverage: kind, source, date, area in km²",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pool, closeDB, err := openDatabase(cmd.Context(), g, g.logger())
			if err != nil {
				return err
			}
			defer closeDB()
			ls, infos, err := coverage.List(cmd.Context(), pool, layers.Default())
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				m := map[string]*coverage.Info{}
				for i, l := range ls {
					m[l.ID] = infos[i]
				}
				return writeJSON(out, m)
			}
			for i, l := range ls {
				c := infos[i]
				if c == nil {
					fmt.Fprintf(out, "%-20s 无覆盖范围 / no coverage (siting answers REVIEW 无数据)\n", l.ID)
					continue
				}
				fmt.Fprintf(out, "%-20s %-9s %s  %s  %s\n", l.ID, c.Kind, c.RecordedAt.Local().Format(time.DateTime), c.AreaText(), c.Source)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func coverageShow(g *globalFlags) *cobra.Command {
	var asJSON, geojson bool
	cmd := &cobra.Command{
		Use:   "show LAYER",
		Short: "show a layer's coverage: source, date, area in km², villages (--geojson: the polygon)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, pool, closeDB, err := layerAndDatabase(cmd, g, args[0])
			if err != nil {
				return err
			}
			defer closeDB()
			out := cmd.OutOrStdout()
			if geojson {
				b, err := coverage.GeoJSON(cmd.Context(), pool, l)
				if err != nil {
					return noCoverage(l, err)
				}
				_, err = fmt.Fprintln(out, string(b))
				return err
			}
			c, err := coverage.Get(cmd.Context(), pool, l)
			if err != nil {
				return noCoverage(l, err)
			}
			if asJSON {
				return writeJSON(out, c)
			}
			fmt.Fprintf(out, "layer:       %s (%s %s)\n", l.ID, l.TitleZH, l.TitleEN)
			fmt.Fprintf(out, "kind:        %s\n", c.Kind)
			fmt.Fprintf(out, "source:      %s\n", c.Source)
			if c.WithFeatures {
				fmt.Fprintf(out, "features:    the layer's own features are part of the coverage / 含本图层要素\n")
			}
			fmt.Fprintf(out, "recorded:    %s by %s\n", c.RecordedAt.Local().Format(time.RFC3339), c.RecordedBy)
			fmt.Fprintf(out, "area:        %s\n", c.AreaText())
			fmt.Fprintf(out, "villages:    %s\n", c.VillageList())
			if b, ok := c.Details["batch_id"].(string); ok {
				fmt.Fprintf(out, "batch:       %s\n", b)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().BoolVar(&geojson, "geojson", false, "print the coverage as a GeoJSON Feature (CRS84)")
	return cmd
}

func noCoverage(l *layers.Layer, err error) error {
	if errors.Is(err, coverage.ErrNone) {
		return fmt.Errorf("图层 %s 没有覆盖范围（选址规则答 REVIEW 无数据）；用 villageplan coverage set %s township 等记录 / layer %s has no coverage (siting answers REVIEW no data); record one with villageplan coverage set %s township|villages:…|FILE|extent",
			l.ID, l.ID, l.ID, l.ID)
	}
	return err
}

func coverageSet(g *globalFlags) *cobra.Command {
	var (
		extend bool
		actor  string
	)
	cmd := &cobra.Command{
		Use:   "set LAYER township|villages:CODE,…|FILE|extent|features",
		Short: "record where a layer's data is complete (replaces, or extends with --append)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := catalogLayer(args[0])
			if err != nil {
				return err
			}
			spec, err := coverage.ParseSpec(args[1])
			if err != nil {
				return err
			}
			if spec.Kind == coverage.Default || spec.Kind == coverage.None {
				return fmt.Errorf("coverage set: 请给出范围（township、villages:代码…、文件、extent、features）；删除用 coverage clear / give a coverage (township, villages:CODE,…, FILE, extent, features); to remove it use coverage clear")
			}
			if actor == "" {
				actor = "villageplan coverage (" + currentUser() + ")"
			}
			ctx := cmd.Context()
			pool, closeDB, err := openDatabase(ctx, g, g.logger())
			if err != nil {
				return err
			}
			defer closeDB()
			tx, err := pool.Begin(ctx)
			if err != nil {
				return err
			}
			defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // no-op after commit
			rec, err := coverage.Apply(ctx, tx, l, spec, !extend, coverage.Env{ReadFile: imports.ReadCoverageFile, Actor: actor})
			if err != nil {
				return fmt.Errorf("coverage of %s unchanged: %w", l.ID, err)
			}
			if err := tx.Commit(ctx); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "layer %s: %s\n", l.ID, rec.Text())
			return nil
		},
	}
	cmd.Flags().BoolVar(&extend, "append", false, "extend the coverage (union with the old one) instead of replacing it")
	cmd.Flags().StringVar(&actor, "actor", "", "who is recorded (default: villageplan coverage (OS user))")
	return cmd
}

func coverageClear(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "clear LAYER",
		Short: "remove a layer's coverage (siting then answers REVIEW 无数据 for rules reading it)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, pool, closeDB, err := layerAndDatabase(cmd, g, args[0])
			if err != nil {
				return err
			}
			defer closeDB()
			had, err := coverage.Clear(cmd.Context(), pool, l)
			if err != nil {
				return err
			}
			if had {
				fmt.Fprintf(cmd.OutOrStdout(), "layer %s: coverage removed; siting rules reading it answer REVIEW 无数据 / 覆盖范围已删除\n", l.ID)
			} else {
				fmt.Fprintf(cmd.OutOrStdout(), "layer %s had no coverage / 原本没有覆盖范围\n", l.ID)
			}
			return nil
		},
	}
}

func writeJSON(w interface{ Write([]byte) (int, error) }, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
