// Command villageplan is the village-planning one-map service (村庄规划一张图)
// of 双营子回族乡: one binary with the subcommands serve and db (import,
// export and check follow the same pattern).
//
//	villageplan serve [--addr 127.0.0.1:8080] [--data DIR] [--database-url URL]
//	villageplan user add|list|disable|enable|passwd|role …, villageplan token create|list|revoke …
//	villageplan db status|start|stop|url|psql [psql args…] [--data DIR]
//
// Without a database URL (flag or DATABASE_URL) the service runs on its
// embedded default: a private PostgreSQL + PostGIS cluster under DIR/pg.
package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"villageplan/internal/buildinfo"
)

func main() {
	if err := newRootCommand().Execute(); err != nil {
		code, silent := exitStatus(err)
		if !silent {
			fmt.Fprintln(os.Stderr, "villageplan:", err)
		}
		os.Exit(code)
	}
}

// globalFlags are shared by every subcommand.
type globalFlags struct {
	dataDir     string
	databaseURL string
	logFormat   string
	logLevel    string
}

func newRootCommand() *cobra.Command {
	g := &globalFlags{}
	root := &cobra.Command{
		Use:           "villageplan",
		Short:         "村庄规划一张图 — village planning one-map service for 双营子回族乡",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       buildinfo.Get().String(),
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.PersistentFlags().StringVar(&g.dataDir, "data", "./.villageplan", "data folder of the embedded default (PostgreSQL cluster in DIR/pg)")
	root.PersistentFlags().StringVar(&g.databaseURL, "database-url", os.Getenv("DATABASE_URL"), "PostGIS database URL (default $DATABASE_URL); empty runs the embedded default")
	root.PersistentFlags().StringVar(&g.logFormat, "log-format", "text", "log format: text or json")
	root.PersistentFlags().StringVar(&g.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	root.AddCommand(newServeCommand(g), newDBCommand(g), newCheckCommand(g), newImportCommand(g), newExportCommand(g), newCoverageCommand(g),
		newUserCommand(g), newTokenCommand(g))
	root.InitDefaultCompletionCmd()
	registerCompletions(root)
	return root
}

func (g *globalFlags) logger() *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(g.logLevel))
	opts := &slog.HandlerOptions{Level: lvl}
	if g.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

// accessLogger opens the access log of `serve --access-log`: "stderr",
// "off" (nil logger) or a file appended to, in the --log-format. close
// releases the file.
func (g *globalFlags) accessLogger(to string) (l *slog.Logger, close func(), err error) {
	var w io.Writer
	close = func() {}
	switch to {
	case "off", "":
		return nil, close, nil
	case "stderr":
		w = os.Stderr
	default:
		f, err := os.OpenFile(to, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
		if err != nil {
			return nil, close, fmt.Errorf("访问日志无法打开 / cannot open the access log --access-log %s: %w", to, err)
		}
		w, close = f, func() { f.Close() }
	}
	if g.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, nil)), close, nil
	}
	return slog.New(slog.NewTextHandler(w, nil)), close, nil
}
