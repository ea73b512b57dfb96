package verify

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// The conformance corpus (sdks/corpus/cases.json): the verdicts @tessera/verify, the Python SDK
// and GET /forward-auth give, case by case, here through Verify and the net/http middleware.
func TestCorpus(t *testing.T) {
	s, stop := startCorpusIssuer()
	defer stop()
	skew := time.Duration(corpus.Settings.ClockSkewSeconds) * time.Second
	v := New(Options{Issuer: s.issuer, Audience: []string{corpus.Settings.Audience}, ClockSkew: &skew, TrustedProxies: corpus.Settings.TrustedProxies, Realm: corpus.Settings.Realm})
	defer v.Close()
	handler := v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(AuthFrom(r.Context()).Sub)) }))
	for _, c := range corpus.Cases {
		t.Run(c.Name, func(t *testing.T) {
			want := ""
			if c.Expect.Error != nil {
				want = *c.Expect.Error
			}
			headers := map[string]string{}
			if authorization := authorizationOf(c, s); authorization != "" {
				headers["authorization"] = authorization
			}
			if c.Request.ForwardedFor != nil {
				headers["x-forwarded-for"] = *c.Request.ForwardedFor
			}
			verdict := v.Verify(requestOf(c.Request.Method, c.Request.Path, c.Request.Peer, headers))
			if verdict.Status != c.Expect.Status || verdict.Error != want {
				t.Fatalf("Verify: got %d %q (%s), want %d %q", verdict.Status, verdict.Error, verdict.Description, c.Expect.Status, want)
			}
			if (verdict.Status == 401 || verdict.Status == 403) && !strings.HasPrefix(verdict.WWWAuthenticate, `Bearer realm="api"`) {
				t.Fatalf("challenge %q", verdict.WWWAuthenticate)
			}

			// The same case through the middleware, as net/http hands a request over.
			// The target as received (RequestURI), even one net/url would not parse (%zz).
			r := httptest.NewRequest(c.Request.Method, "http://api.example/", nil)
			r.RequestURI = c.Request.Path
			r.RemoteAddr = net.JoinHostPort(c.Request.Peer, "50000")
			for name, value := range headers {
				r.Header.Set(name, value)
			}
			recorder := httptest.NewRecorder()
			handler.ServeHTTP(recorder, r)
			got := ""
			if recorder.Code != 200 {
				var body map[string]string
				_ = json.Unmarshal(recorder.Body.Bytes(), &body)
				if got = body["error"]; got == "unauthorized" {
					got = ""
				}
				if recorder.Header().Get("cache-control") != "no-store" {
					t.Fatal("refusal without Cache-Control: no-store")
				}
			}
			if recorder.Code != c.Expect.Status || got != want {
				t.Fatalf("middleware: got %d %q, want %d %q", recorder.Code, got, c.Expect.Status, want)
			}
		})
	}
}
