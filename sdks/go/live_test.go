package verify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// A live Tessera for the whole run: `node packages/server/dist/cli/main.js serve` on a free
// port with PGlite, an admin session and an app that may introspect.
var live struct {
	url, admin, clientID, clientSecret string
}

func freePort() int {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer listener.Close()
	return listener.Addr().(*net.TCPAddr).Port
}

func call(method, path string, body any, token string) (int, map[string]any) {
	var reader io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		reader = bytes.NewReader(data)
	}
	request, _ := http.NewRequest(method, live.url+path, reader)
	if body != nil {
		request.Header.Set("content-type", "application/json")
	}
	if token == "" {
		token = live.admin
	}
	if token != "" {
		request.Header.Set("authorization", "Bearer "+token)
	}
	response, err := http.DefaultClient.Do(request)
	if err != nil {
		return 0, nil
	}
	defer response.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(response.Body).Decode(&out)
	return response.StatusCode, out
}

func TestMain(m *testing.M) {
	main := filepath.Join(repoRoot, "packages", "server", "dist", "cli", "main.js")
	node, err := exec.LookPath("node")
	if _, statErr := os.Stat(main); err != nil || statErr != nil {
		fmt.Fprintf(os.Stderr, "a live Tessera needs node and %s (npm run build)\n", main)
		os.Exit(1)
	}
	dataDir, _ := os.MkdirTemp("", "tessera-go-")
	port := freePort()
	password := "go sdk test password"
	server := exec.Command(node, main, "serve")
	server.Dir = repoRoot
	server.Env = append(os.Environ(), fmt.Sprintf("TESSERA_PORT=%d", port), "TESSERA_HOST=127.0.0.1", "TESSERA_DATA_DIR="+dataDir,
		"TESSERA_ADMIN_PASSWORD="+password, "TESSERA_LOG_LEVEL=warn", "TESSERA_DATABASE_URL=")
	var stderr bytes.Buffer
	server.Stderr = &stderr
	if err := server.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	live.url = fmt.Sprintf("http://127.0.0.1:%d", port)
	code := func() int {
		defer func() {
			_ = server.Process.Signal(os.Interrupt)
			done := make(chan struct{})
			go func() { _ = server.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				_ = server.Process.Kill()
			}
			_ = os.RemoveAll(dataDir)
		}()
		deadline := time.Now().Add(180 * time.Second) // a first PGlite start migrates; slow on a loaded machine
		for {
			if response, err := http.Get(live.url + "/.well-known/jwks.json"); err == nil {
				response.Body.Close()
				break
			}
			if time.Now().After(deadline) {
				fmt.Fprintf(os.Stderr, "Tessera did not start: %s\n", stderr.String())
				return 1
			}
			time.Sleep(200 * time.Millisecond)
		}
		status, session := call("POST", "/api/v1/sessions", map[string]any{"username": "admin", "password": password}, "-")
		if status != 201 {
			fmt.Fprintf(os.Stderr, "login: %d %v\n", status, session)
			return 1
		}
		live.admin = session["session_token"].(string)
		status, app := call("POST", "/api/v1/apps", map[string]any{"name": "go-sdk", "can_introspect": true}, "")
		if status != 201 {
			fmt.Fprintf(os.Stderr, "app: %d %v\n", status, app)
			return 1
		}
		live.clientID, live.clientSecret = app["client_id"].(string), app["client_secret"].(string)
		return m.Run()
	}()
	os.Exit(code)
}

func createToken(t *testing.T, body map[string]any) map[string]any {
	t.Helper()
	body["name"] = fmt.Sprintf("go-%d", time.Now().UnixNano())
	status, created := call("POST", "/api/v1/tokens", body, "")
	if status != 201 {
		t.Fatalf("create token: %d %v", status, created)
	}
	return created
}

func eventually(within time.Duration, check func() bool) bool {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if check() {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return check()
}

func bearerRequest(method, path, token string) Request {
	return requestOf(method, path, "127.0.0.1", map[string]string{"authorization": "Bearer " + token})
}

func TestReadmeQuickStartRunsAsWritten(t *testing.T) {
	readme, _ := os.ReadFile(filepath.Join(repoRoot, "sdks", "go", "README.md"))
	block := regexp.MustCompile("(?s)## Quick start.*?```go\n(.*?)```").FindSubmatch(readme)
	if block == nil || len(strings.Split(strings.TrimSpace(string(block[1])), "\n")) != 5 {
		t.Fatal("the README has a five-line ```go quick start")
	}
	dir := t.TempDir()
	module, _ := os.ReadFile(filepath.Join(repoRoot, "sdks", "go", "go.mod"))
	sums, _ := os.ReadFile(filepath.Join(repoRoot, "sdks", "go", "go.sum"))
	require := regexp.MustCompile(`(?m)^require .*$`).Find(module)
	goMod := fmt.Sprintf("module quickstart\n\ngo 1.25\n\nrequire github.com/tessera/verify-go v0.0.0\n%s\nreplace github.com/tessera/verify-go => %s\n", require, filepath.Join(repoRoot, "sdks", "go"))
	program := "package main\n\nimport (\n\t\"log\"\n\t\"net/http\"\n\t\"os\"\n\n\tverify \"github.com/tessera/verify-go\"\n)\n\nfunc main() {\n" + string(block[1]) + "}\n"
	for name, content := range map[string]string{"go.mod": goMod, "go.sum": string(sums), "main.go": program} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	binary := filepath.Join(dir, "quickstart")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Dir = dir
	build.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off")
	if output, err := build.CombinedOutput(); err != nil {
		t.Fatalf("the quick start does not build: %v\n%s", err, output)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", freePort())
	run := exec.Command(binary)
	run.Env = append(os.Environ(), "TESSERA_URL="+live.url, "TESSERA_CLIENT_ID="+live.clientID, "TESSERA_CLIENT_SECRET="+live.clientSecret, "ADDR="+addr)
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = run.Process.Kill(); _ = run.Wait() }()
	token := createToken(t, map[string]any{"scope": map[string]any{"kind": "custom", "endpoints": []string{"/plans"}}})["access_token"].(string)
	get := func(path string) (int, string) {
		request, _ := http.NewRequest("GET", "http://"+addr+path, nil)
		request.Header.Set("authorization", "Bearer "+token)
		response, err := http.DefaultClient.Do(request)
		if err != nil {
			return 0, ""
		}
		defer response.Body.Close()
		body, _ := io.ReadAll(response.Body)
		return response.StatusCode, string(body)
	}
	// 503 until the feed has delivered its backlog, then the verdicts.
	if !eventually(30*time.Second, func() bool { status, _ := get("/plans/7"); return status == 200 }) {
		status, body := get("/plans/7")
		t.Fatalf("quick start: %d %s", status, body)
	}
	if _, body := get("/plans/7"); !strings.HasPrefix(body, "hello ") {
		t.Fatalf("body %q", body)
	}
	if status, _ := get("/admin"); status != 403 {
		t.Fatalf("outside the scope: %d", status)
	}
}

func TestRevokedAPITokenStopsWithinTheFeedLatency(t *testing.T) {
	v := New(Options{Issuer: live.url, Audience: []string{"api"}, Revocations: &Client{ID: live.clientID, Secret: live.clientSecret}})
	defer v.Close()
	if !v.WaitReady(30 * time.Second) {
		t.Fatal("feed not ready")
	}
	token := createToken(t, map[string]any{"scope": map[string]any{"kind": "all"}})
	request := bearerRequest("GET", "/plans", token["access_token"].(string))
	if verdict := v.Verify(request); !verdict.OK {
		t.Fatalf("before revocation: %+v", verdict)
	}
	if status, _ := call("POST", "/api/v1/tokens/"+token["id"].(string)+"/revoke", nil, ""); status != 200 {
		t.Fatalf("revoke: %d", status)
	}
	started := time.Now()
	if !eventually(2*time.Second, func() bool { return v.Verify(request).Status == 401 }) {
		t.Fatal("not refused within 2 s of the revocation")
	}
	t.Logf("revocation reached the Go SDK in %v", time.Since(started))
}

// SPEC 9: revoke-all streams one cutoff event, not one event per token; the SDK refuses every
// access token minted before it from the owner's API tokens, and newer ones keep working.
func TestRevokeAllReachesTheSDKAsOneCutoff(t *testing.T) {
	v := New(Options{Issuer: live.url, Audience: []string{"api"}, Revocations: &Client{ID: live.clientID, Secret: live.clientSecret}})
	defer v.Close()
	if !v.WaitReady(30 * time.Second) {
		t.Fatal("feed not ready")
	}
	var requests []Request
	for range 2 {
		token := createToken(t, map[string]any{"scope": map[string]any{"kind": "all"}})
		request := bearerRequest("GET", "/plans", token["access_token"].(string))
		if verdict := v.Verify(request); !verdict.OK {
			t.Fatalf("before the cutoff: %+v", verdict)
		}
		requests = append(requests, request)
	}
	if status, answer := call("POST", "/api/v1/tokens/revoke-all", map[string]any{"owner": "admin"}, ""); status != 200 {
		t.Fatalf("revoke-all: %d %v", status, answer)
	}
	started := time.Now()
	refused := func() bool {
		for _, request := range requests {
			if v.Verify(request).Status != 401 {
				return false
			}
		}
		return true
	}
	if !eventually(2*time.Second, refused) {
		t.Fatal("not refused within 2 s of the cutoff")
	}
	t.Logf("a cutoff reached the Go SDK in %v", time.Since(started))
	newer := createToken(t, map[string]any{"scope": map[string]any{"kind": "all"}})
	if verdict := v.Verify(bearerRequest("GET", "/plans", newer["access_token"].(string))); !verdict.OK {
		t.Fatalf("issued after the cutoff: %+v", verdict)
	}
}

func TestDirectTokensByIntrospection(t *testing.T) {
	status, preset := call("POST", "/api/v1/presets", map[string]any{"name": "go-direct", "description": "direct", "endpoints": []string{"GET /recovery/*"},
		"mode": "direct", "scope_locked": true, "default_lifetime": "30D"}, "")
	if status != 201 {
		t.Fatalf("preset: %d %v", status, preset)
	}
	token := createToken(t, map[string]any{"scope": map[string]any{"kind": "go-direct"}})
	secret := token["token"].(string)
	if verdict := New(Options{Issuer: live.url, Audience: []string{"api"}}).Verify(bearerRequest("GET", "/recovery/1", secret)); !strings.HasPrefix(verdict.Description, "This API accepts access tokens only") {
		t.Fatalf("without introspection: %+v", verdict)
	}
	noSkew := time.Duration(0)
	// A cached answer lives IntrospectionCache + ClockSkew, as in @tessera/verify.
	v := New(Options{Issuer: live.url, Audience: []string{"api"}, Introspection: &Client{ID: live.clientID, Secret: live.clientSecret}, IntrospectionCache: time.Second, ClockSkew: &noSkew})
	if verdict := v.Verify(bearerRequest("GET", "/recovery/1", secret)); !verdict.OK || verdict.Auth.TokenID != token["id"] {
		t.Fatalf("direct token: %+v", verdict)
	}
	if verdict := v.Verify(bearerRequest("POST", "/recovery/1", secret)); verdict.Status != 403 {
		t.Fatalf("outside the preset: %+v", verdict)
	}
	call("POST", "/api/v1/tokens/"+token["id"].(string)+"/revoke", nil, "")
	if !eventually(2*time.Second, func() bool { return v.Verify(bearerRequest("GET", "/recovery/1", secret)).Status == 401 }) {
		t.Fatal("a revoked direct token still passes")
	}
}

func TestFailsClosedWhenTheFeedGoesQuiet(t *testing.T) {
	s, stop := startCorpusIssuer()
	defer stop()
	quiet := make(chan struct{})
	done := make(chan struct{})
	feed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("content-type", "text/event-stream")
		_, _ = w.Write([]byte("event: synced\ndata: {}\n\n"))
		w.(http.Flusher).Flush()
		for {
			select {
			case <-quiet:
				<-done // silent, connection open: only the staleness bound can tell
				return
			case <-r.Context().Done():
				return
			case <-time.After(200 * time.Millisecond):
				_, _ = w.Write([]byte(": ping\n\n"))
				w.(http.Flusher).Flush()
			}
		}
	}))
	defer feed.Close()
	defer close(done)
	v := New(Options{Issuer: s.issuer, Audience: []string{"api"}, MaxStaleness: time.Second, Revocations: &Client{ID: "c", Secret: "s", URL: feed.URL + "/oauth/revocations"}})
	defer v.Close()
	if !v.WaitReady(5 * time.Second) {
		t.Fatal("feed not ready")
	}
	request := requestOf("GET", "/plans", "127.0.0.1", map[string]string{"authorization": authorizationOf(corpus.Cases[0], s)})
	if verdict := v.Verify(request); !verdict.OK {
		t.Fatalf("fresh feed: %+v", verdict)
	}
	time.Sleep(1200 * time.Millisecond)
	if verdict := v.Verify(request); !verdict.OK {
		t.Fatalf("heartbeats keep it fresh: %+v", verdict)
	}
	close(quiet)
	started := time.Now()
	if !eventually(3*time.Second, func() bool { return v.Verify(request).Status == 503 }) {
		t.Fatal("still answering with a silent feed")
	}
	if elapsed := time.Since(started); elapsed < 500*time.Millisecond {
		t.Fatalf("refused after %v, before the staleness bound", elapsed)
	}
	if verdict := v.Verify(request); verdict.Error != "temporarily_unavailable" || verdict.WWWAuthenticate != "" {
		t.Fatalf("stale verdict: %+v", verdict)
	}
}
