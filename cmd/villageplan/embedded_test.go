package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestEmbeddedClusterInPrivateHome: as root, a data folder inside a 0700
// directory (a checkout under /root) gets its cluster under
// relocatedClusterBase with DIR/pg linking to it, the server starts there
// as the postgres user, and a second call finds the same cluster.
func TestEmbeddedClusterInPrivateHome(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("relocation applies only to root (the server then runs as postgres); run as root, as CI does")
	}
	home, err := os.MkdirTemp("/var/tmp", "villageplan-home-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(home) })
	if err := os.Chmod(home, 0o700); err != nil { // like /root
		t.Fatal(err)
	}
	base, err := os.MkdirTemp("/var/tmp", "villageplan-clusters-")
	if err != nil {
		t.Fatal(err)
	}
	_ = os.Chmod(base, 0o755)
	t.Cleanup(func() { os.RemoveAll(base) })
	old := relocatedClusterBase
	relocatedClusterBase = filepath.Join(base, "clusters")
	t.Cleanup(func() { relocatedClusterBase = old })

	data := filepath.Join(home, "checkout", ".villageplan")
	logger := slog.New(slog.DiscardHandler)
	c, err := embeddedCluster(data, logger)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(c.Dir(), relocatedClusterBase+"/") {
		t.Fatalf("cluster in %s, want under %s", c.Dir(), relocatedClusterBase)
	}
	link, err := os.Readlink(filepath.Join(data, "pg"))
	if err != nil || link != c.Dir() {
		t.Fatalf("DIR/pg links to %q (%v), want %s", link, err, c.Dir())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	url, started, err := startEmbedded(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if !started || url == "" {
		t.Fatalf("started=%v url=%q", started, url)
	}
	t.Cleanup(func() { _ = c.Stop(context.Background()) })

	again, err := embeddedCluster(data, logger)
	if err != nil {
		t.Fatal(err)
	}
	if again.Dir() != c.Dir() || again.Port() != c.Port() {
		t.Errorf("second call: %s port %d, want %s port %d", again.Dir(), again.Port(), c.Dir(), c.Port())
	}
}
