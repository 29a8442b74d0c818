package api

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deis/deis"
)

// BenchmarkEndpoints measures list and get endpoints through real HTTP on
// loopback, over a SQLite store (or PostgreSQL with DEIS_TEST_DATABASE),
// with -clients concurrent keep-alive clients (default 4). It reports req/s and the p50 and
// p99 latency of one request.
//
//	go test -run '^$' -bench Endpoints -benchtime 20000x ./api/
func BenchmarkEndpoints(b *testing.B) {
	w := &world{testAPI: newTestAPI(b)}
	w.alice = w.user("alice")
	w.must(201, "POST", "/v1/formations", w.alice, deis.FormationCreateRequest{ID: "dev", Flavor: "static", Domain: "example.com"}, nil)
	for i := range 50 {
		w.must(201, "POST", "/v1/apps", w.alice, deis.AppCreateRequest{ID: fmt.Sprintf("app-%02d", i), Formation: "dev"}, nil)
	}
	for i := range 20 {
		w.must(201, "POST", "/v1/apps/app-00/config", w.alice, deis.ConfigUpdateRequest{Values: map[string]*string{fmt.Sprintf("K%d", i): ptr("v")}}, nil)
	}
	for _, path := range []string{"/v1/apps/app-00", "/v1/apps", "/v1/apps/app-00/releases", "/v1/apps/app-00/releases/v7", "/v1/apps/app-00/config", "/v1/formations/dev"} {
		name := strings.ReplaceAll(strings.TrimPrefix(path, "/v1/"), "/", "_")
		b.Run(name, func(b *testing.B) { benchGet(b, w.srv.URL+path, w.alice) })
	}
}

var benchClients = flag.Int("clients", 4, "concurrent clients of BenchmarkEndpoints")

func benchGet(b *testing.B, url, token string) {
	clients := *benchClients
	tr := &http.Transport{MaxIdleConnsPerHost: clients}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	lat := make([]time.Duration, b.N)
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				req, _ := http.NewRequest("GET", url, nil)
				req.Header.Set("Authorization", "Bearer "+token)
				t0 := time.Now()
				resp, err := hc.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				lat[i] = time.Since(t0)
				if resp.StatusCode != 200 {
					b.Errorf("GET %s: %d", url, resp.StatusCode)
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}
