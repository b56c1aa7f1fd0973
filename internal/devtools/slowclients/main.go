// Command slowclients plays hostile download clients for the benchmark of
// `make bench-slowclients`: N clients each start a file download and then
// read it a few bytes per second (-rate) or not at all (-stalled of them),
// with a small socket receive buffer so that the server's writes block at
// once. A client whose download ends (the server drops it after its write
// stall, or it completes) or is refused (503 while the download slots are
// full, 429) starts again after -retry. On SIGINT/SIGTERM or after
// -duration it prints one line
//
//	RESULT clients=N started=… refused_503=… refused_429=… other_status=… dropped=… completed=… bytes_read=…
//
// where started counts 200 answers, dropped the downloads that ended with
// a connection error or no terminating chunk, completed those read to the
// end. Loopback use only: it is a load generator, not a client.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

type counters struct {
	started, refused503, refused429, other, dropped, completed, bytes atomic.Int64
}

func main() {
	target := flag.String("url", "", "download URL, e.g. http://127.0.0.1:18182/collections/homesteads/items?f=geojson")
	n := flag.Int("n", 16, "clients")
	stalled := flag.Int("stalled", 8, "of them, clients that read nothing after the status line")
	rate := flag.Int("rate", 4, "bytes per second read by the other clients")
	rcvbuf := flag.Int("rcvbuf", 4096, "socket receive buffer of each client in bytes")
	retry := flag.Duration("retry", time.Second, "pause before a client starts again")
	hold := flag.Duration("hold", 60*time.Second, "a stalled client gives up and starts again after this long if the server has not dropped it")
	duration := flag.Duration("duration", 0, "stop after this long (0: at SIGINT/SIGTERM)")
	flag.Parse()
	u, err := url.Parse(*target)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		fmt.Fprintln(os.Stderr, "slowclients: -url must be an http:// URL")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if *duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *duration)
		defer cancel()
	}
	var c counters
	var wg sync.WaitGroup
	for i := 0; i < *n; i++ {
		wg.Add(1)
		go func(stall bool) {
			defer wg.Done()
			for ctx.Err() == nil {
				download(ctx, u, stall, *rate, *rcvbuf, *hold, &c)
				select {
				case <-ctx.Done():
				case <-time.After(*retry):
				}
			}
		}(i < *stalled)
	}
	wg.Wait()
	fmt.Printf("RESULT clients=%d stalled=%d rate_Bps=%d started=%d refused_503=%d refused_429=%d other_status=%d dropped=%d completed=%d bytes_read=%d\n",
		*n, *stalled, *rate, c.started.Load(), c.refused503.Load(), c.refused429.Load(), c.other.Load(), c.dropped.Load(), c.completed.Load(), c.bytes.Load())
}

// download runs one request on a fresh connection.
func download(ctx context.Context, u *url.URL, stall bool, rate, rcvbuf int, hold time.Duration, c *counters) {
	d := net.Dialer{Timeout: 5 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		c.other.Add(1)
		return
	}
	defer conn.Close()
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(rcvbuf)
	}
	stopWatch := context.AfterFunc(ctx, func() { conn.Close() })
	defer stopWatch()
	if _, err := fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: villageplan-slowclients\r\nConnection: close\r\n\r\n", u.RequestURI(), u.Host); err != nil {
		c.other.Add(1)
		return
	}
	// The status line and headers are read at full speed (one small
	// buffer), the body then at the client's pace.
	br := bufio.NewReaderSize(conn, 64)
	status, err := br.ReadString('\n')
	if err != nil {
		c.other.Add(1)
		return
	}
	f := strings.Fields(status)
	code := 0
	if len(f) >= 2 {
		code, _ = strconv.Atoi(f[1])
	}
	switch code {
	case 200:
		c.started.Add(1)
	case 503:
		c.refused503.Add(1)
		return
	case 429:
		c.refused429.Add(1)
		return
	default:
		c.other.Add(1)
		return
	}
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			c.dropped.Add(1)
			return
		}
		if line == "\r\n" {
			break
		}
	}
	if stall {
		// Read nothing; learn that the server dropped the connection
		// only when giving up (or at the end).
		select {
		case <-ctx.Done():
		case <-time.After(hold):
		}
		c.dropped.Add(1)
		return
	}
	buf := make([]byte, max(rate, 1))
	var tail []byte
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		k, err := io.ReadFull(br, buf)
		c.bytes.Add(int64(k))
		tail = append(tail, buf[:k]...)
		if len(tail) > 16 {
			tail = tail[len(tail)-16:]
		}
		if err != nil {
			// A chunked body that ended with its terminating chunk is
			// complete; anything else was cut off.
			if (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)) && strings.HasSuffix(string(tail), "0\r\n\r\n") {
				c.completed.Add(1)
			} else {
				c.dropped.Add(1)
			}
			return
		}
	}
}
