package verify

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strconv"
	"strings"
)

type authKey struct{}

// AuthFrom returns the Auth the middleware put in a verified request's context (nil otherwise).
func AuthFrom(ctx context.Context) *Auth {
	auth, _ := ctx.Value(authKey{}).(*Auth)
	return auth
}

// FromHTTPRequest maps a net/http request for Verify: the request target as received, the
// socket peer (X-Forwarded-For counts only from TrustedProxies).
func FromHTTPRequest(r *http.Request) Request {
	peer := r.RemoteAddr
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		peer = host
	}
	target := r.RequestURI
	if target == "" {
		target = r.URL.RequestURI()
	}
	return Request{
		Method:     r.Method,
		URL:        target,
		RemoteAddr: peer,
		Header: func(name string) (string, bool) {
			values, ok := r.Header[http.CanonicalHeaderKey(name)]
			return strings.Join(values, ", "), ok
		},
	}
}

// WriteRefusal sends a refusal per RFC 6750: the status, Cache-Control: no-store, the
// WWW-Authenticate challenge (401, 403), Retry-After for 503, and {"error", "error_description"}.
func WriteRefusal(w http.ResponseWriter, verdict Verdict) {
	header := w.Header()
	header.Set("content-type", "application/json")
	header.Set("cache-control", "no-store")
	if verdict.WWWAuthenticate != "" {
		header.Set("www-authenticate", verdict.WWWAuthenticate)
	}
	if verdict.Status == 503 {
		header.Set("retry-after", "1")
	}
	code := verdict.Error
	if code == "" {
		code = "unauthorized"
	}
	body, _ := json.Marshal(map[string]string{"error": code, "error_description": verdict.Description})
	header.Set("content-length", strconv.Itoa(len(body)))
	w.WriteHeader(verdict.Status)
	_, _ = w.Write(body)
}

// Middleware calls next only for verified requests, with the Auth in the context (AuthFrom).
func (v *Verifier) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		verdict := v.Verify(FromHTTPRequest(r))
		if !verdict.OK {
			WriteRefusal(w, verdict)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), authKey{}, verdict.Auth)))
	})
}
