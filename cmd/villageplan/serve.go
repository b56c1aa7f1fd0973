package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"villageplan/data/sample"
	"villageplan/internal/applications"
	"villageplan/internal/auth"
	"villageplan/internal/db"
	"villageplan/internal/httpapi"
	"villageplan/internal/projects"
	"villageplan/internal/siting"
	"villageplan/layers"
)

func newServeCommand(g *globalFlags) *cobra.Command {
	var (
		addr          string
		sampleScale   string
		loadSample    bool
		replicaURLs   []string
		replicaMaxLag time.Duration
		rulesFile     string
		baseURL       string
		proxies       []string
		limits        = httpapi.DefaultLimits
		rateArgs      []string
		accessLogTo   string
		tileCache     string
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "run the HTTP service (embedded PostGIS by default)",
		Long: `Runs the service. Without --database-url it creates (first run) and starts a
private PostgreSQL + PostGIS cluster under DIR/pg, applies the migrations and
loads the sample township (示例数据) when the database is empty. With
--database-url it uses that PostGIS (≥ 3) and never starts a cluster.
SIGINT/SIGTERM drain the HTTP server and stop the private cluster.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger := g.logger()
			rs, err := siting.DefaultRuleSet()
			if rulesFile != "" {
				rs, err = siting.LoadRuleSetFile(rulesFile)
			}
			if err != nil {
				return err
			}
			trusted, err := parseTrustedProxies(proxies)
			if err != nil {
				return err
			}
			rates, err := parseRateLimits(rateArgs)
			if err != nil {
				return err
			}
			tileCacheBytes, err := parseTileCache(tileCache)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()

			url := g.databaseURL
			embedded := url == ""
			if embedded {
				c, err := embeddedCluster(g.dataDir, logger)
				if err != nil {
					return err
				}
				u, started, err := startEmbedded(ctx, c)
				if err != nil {
					return err
				}
				url = u
				if started {
					defer func() {
						if err := c.Stop(context.Background()); err != nil {
							logger.Error("stop embedded PostgreSQL", "err", err)
						} else {
							logger.Info("embedded PostgreSQL stopped")
						}
					}()
				}
			}
			// Tiles and checks are short queries: 4 connections per core
			// measured best on 2 cores (pgx's default is max(4, cores)).
			pool, err := db.Open(ctx, url, int32(4*runtime.NumCPU()))
			if err != nil {
				return err
			}
			defer pool.Close()
			version, err := db.CheckPostGIS(ctx, pool)
			if err != nil {
				return err
			}
			logger.Info("PostGIS found", "version", version)
			if err := db.Migrate(ctx, pool, logger); err != nil {
				return err
			}
			if embedded || loadSample {
				start := time.Now()
				loaded, counts, err := sample.LoadIfEmpty(ctx, pool, sample.Options{Seed: 1, Scale: sampleScale}, logger)
				if err != nil {
					return fmt.Errorf("load sample township: %w", err)
				}
				if loaded {
					logger.Info("sample township loaded (示例数据)", "features", counts, "duration", time.Since(start).Round(time.Millisecond))
				}
				if sampleScale == sample.ScaleTownship {
					n, err := applications.LoadSamples(ctx, pool, siting.NewService(pool, rs), time.Now())
					if err != nil {
						return fmt.Errorf("load sample applications: %w", err)
					}
					if n > 0 {
						logger.Info("sample applications filed (示例数据)", "applications", n)
					}
					np, err := projects.LoadSamples(ctx, pool, time.Now())
					if err != nil {
						return fmt.Errorf("load sample construction projects: %w", err)
					}
					if np > 0 {
						logger.Info("sample construction projects filed (示例数据)", "projects", np)
					}
				}
			}
			accounts := auth.NewStore(pool)
			if embedded || loadSample {
				if err := firstAccounts(ctx, accounts, os.Stderr); err != nil {
					return err
				}
			} else if n, err := accounts.CountUsers(ctx); err == nil && n == 0 {
				logger.Warn("no user account yet: create one with `villageplan user add NAME --role admin` (its one-time password is printed once)")
			}

			accessLog, closeAccess, err := g.accessLogger(accessLogTo)
			if err != nil {
				return err
			}
			defer closeAccess()
			var replicaSet *db.ReplicaSet
			if len(replicaURLs) > 0 {
				replicaSet, err = httpapi.NewReplicaSet(pool, replicaURLs, replicaMaxLag, limits)
				if err != nil {
					return err
				}
				defer replicaSet.Close()
				logger.Info("read replicas", "replicas", replicaSet.States())
			}
			srv := httpapi.New(httpapi.Options{Pool: pool, Catalog: layers.Default(), Logger: logger, RuleSet: rs, BaseURL: baseURL,
				TrustedProxies: trusted, Limits: limits, RateLimits: rates, AccessLog: accessLog, Accounts: accounts, Authenticator: accounts,
				TileCacheBytes: tileCacheBytes, Replicas: replicaSet})
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("listen on %s: %w (another villageplan running? choose --addr)", addr, err)
			}
			defer srv.Close()
			// Interactive responses must be written within WriteTimeout;
			// downloads move their own deadline forward with every write
			// (httpapi.Limits.WriteStall), so a client that stops reading
			// is dropped without cutting a long download that flows.
			hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute,
				WriteTimeout: 2 * time.Minute, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10}
			errc := make(chan error, 1)
			go func() { errc <- hs.Serve(ln) }()
			logger.Info("serving", "url", "http://"+ln.Addr().String(), "embedded_database", embedded)

			select {
			case err := <-errc:
				if !errors.Is(err, http.ErrServerClosed) {
					return err
				}
			case <-ctx.Done():
				logger.Info("shutting down: draining HTTP requests")
				sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
				defer cancel()
				if err := hs.Shutdown(sctx); err != nil {
					logger.Warn("HTTP drain incomplete", "err", err)
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "listen address")
	cmd.Flags().StringVar(&sampleScale, "sample-scale", "township", "sample data set for an empty database: township, county (benchmarks) or county5 (five times the county, growth benchmark)")
	cmd.Flags().StringVar(&rulesFile, "rules", "", "siting rule-set file (default: the one shipped with the binary)")
	cmd.Flags().StringVar(&baseURL, "base-url", os.Getenv("VILLAGEPLAN_BASE_URL"), "external URL of the service for links (default: from the request and X-Forwarded-* headers)")
	cmd.Flags().StringArrayVar(&proxies, "trusted-proxy", nil, "address or CIDR of a reverse proxy whose X-Forwarded-Proto/Host/Prefix headers are believed (repeatable; none by default)")
	cmd.Flags().DurationVar(&limits.Interactive, "limit-interactive", limits.Interactive, "deadline of feature pages, tiles, map views (503 past it)")
	cmd.Flags().DurationVar(&limits.Siting, "limit-siting", limits.Siting, "deadline of a siting check or desk preview")
	cmd.Flags().DurationVar(&limits.Download, "limit-download", limits.Download, "deadline of a whole file download (f=gpkg|shp|geojson|csv|kml|jzd)")
	cmd.Flags().IntVar(&limits.DownloadSlots, "download-slots", limits.DownloadSlots, "downloads at once; more get 503 with Retry-After (each holds a database connection)")
	cmd.Flags().DurationVar(&limits.WriteStall, "write-stall", limits.WriteStall, "drop a download client that reads nothing for this long")
	cmd.Flags().StringArrayVar(&rateArgs, "rate-limit", nil, "per-client limit CLASS=RATE[/BURST] for siting, download or write requests, e.g. siting=5/20; siting=0 turns it off (defaults: siting=5/20, download=0.5/12, write=5/20)")
	cmd.Flags().StringVar(&accessLogTo, "access-log", "stderr", "where one line per request goes: stderr, off, or a file (appended), in the --log-format")
	cmd.Flags().StringVar(&tileCache, "tile-cache", "256MiB", "size of the in-process tile cache (e.g. 64MiB, 1GiB, 500MB, or bytes), or off: every tile is rendered by the database (the uncached benchmarks)")
	cmd.Flags().StringArrayVar(&replicaURLs, "read-replica", nil, "connection URL of a streaming standby that serves feature, download and tile reads (repeatable; see README \"Read replicas\")")
	cmd.Flags().DurationVar(&replicaMaxLag, "replica-max-lag", 10*time.Second, "replay lag beyond which a read replica leaves the rotation (until it catches up)")
	cmd.Flags().BoolVar(&loadSample, "load-sample", false, "also load the sample data into an empty external database")
	return cmd
}

// firstAccounts, on a database without any account, creates admin and
// the sample desk accounts (auth.EnsureAdmin, auth.CreateSampleUsers),
// each with a random one-time password, and prints them once on w. There
// is no fixed default password: each works until it is changed at the
// first login. With accounts present it does nothing.
func firstAccounts(ctx context.Context, accounts *auth.Store, w io.Writer) error {
	admin, created, err := accounts.EnsureAdmin(ctx)
	if err != nil || !created {
		return err
	}
	desk, err := accounts.CreateSampleUsers(ctx)
	if err != nil {
		return err
	}
	auth.PrintOneTimeAccounts(w, append([]auth.OneTimeAccount{admin}, desk...))
	return nil
}

// parseTrustedProxies reads --trusted-proxy values: CIDRs (10.0.0.0/8) or
// single addresses (127.0.0.1, ::1).
func parseTrustedProxies(vals []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, v := range vals {
		if p, err := netip.ParsePrefix(v); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(v)
		if err != nil {
			return nil, fmt.Errorf("--trusted-proxy %q: not an address or CIDR (e.g. 127.0.0.1 or 10.1.0.0/16)", v)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

// parseTileCache reads --tile-cache: "off" (or "0") gives −1, no cache;
// otherwise a size in bytes with an optional unit B, kB/KB, KiB, MB, MiB,
// GB or GiB (decimal units are powers of 1000, binary ones of 1024).
func parseTileCache(v string) (int64, error) {
	s := strings.TrimSpace(strings.ToLower(v))
	if s == "off" || s == "0" || s == "none" {
		return -1, nil
	}
	units := []struct {
		suffix string
		mult   int64
	}{{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"kb", 1000}, {"mb", 1000 * 1000}, {"gb", 1000 * 1000 * 1000}, {"k", 1 << 10}, {"m", 1 << 20}, {"g", 1 << 30}, {"b", 1}}
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || n < 0 || n*float64(mult) > 1<<50 {
		return 0, fmt.Errorf("--tile-cache %q: want a size such as 256MiB, 1GiB or 500MB, or off", v)
	}
	b := int64(n * float64(mult))
	if b < 1<<20 {
		return 0, fmt.Errorf("--tile-cache %q: a cache under 1 MiB holds almost no tile; give at least 1MiB, or off", v)
	}
	return b, nil
}

// parseRateLimits reads --rate-limit CLASS=RATE[/BURST] values.
func parseRateLimits(vals []string) (map[string]httpapi.RateLimit, error) {
	out := map[string]httpapi.RateLimit{}
	for _, v := range vals {
		class, spec, ok := strings.Cut(v, "=")
		if _, known := httpapi.DefaultRateLimits[class]; !ok || !known {
			return nil, fmt.Errorf("--rate-limit %q: want CLASS=RATE[/BURST] with CLASS siting, download or write", v)
		}
		rateS, burstS, hasBurst := strings.Cut(spec, "/")
		r, err := strconv.ParseFloat(rateS, 64)
		if err != nil || r < 0 || math.IsInf(r, 0) || math.IsNaN(r) {
			return nil, fmt.Errorf("--rate-limit %q: the rate is requests per second, a number ≥ 0", v)
		}
		lim := httpapi.RateLimit{Rate: r, Burst: httpapi.DefaultRateLimits[class].Burst}
		if hasBurst {
			b, err := strconv.Atoi(burstS)
			if err != nil || b < 1 {
				return nil, fmt.Errorf("--rate-limit %q: the burst is a whole number ≥ 1", v)
			}
			lim.Burst = b
		}
		out[class] = lim
	}
	return out, nil
}
