// Package verify verifies Tessera access tokens in Go API servers, with the semantics of the
// Node SDK @tessera/verify (SPEC 5.3, 5.4, 10): JWKS (EdDSA, ES256, RS256), issuer, audience,
// RFC 9068 typ, expiry with skew, endpoint scope, IP allowlist with trusted proxies, direct
// tokens by introspection and the revocation feed, failing closed when it goes quiet.
package verify

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Client is an app's credentials (an app with can_introspect).
type Client struct {
	ID, Secret string
	URL        string // default: the issuer's endpoint
}

// Options configure a Verifier; Issuer and Audience are required. Zero values take the
// defaults of @tessera/verify.
type Options struct {
	Issuer   string
	Audience []string
	JWKSURI  string
	// Algorithms accepted; default EdDSA, ES256, RS256 (the header's alg must match the key's).
	Algorithms           []string
	ClockSkew            *time.Duration // default 5 s
	JWKSCooldown         time.Duration  // default 30 s
	JWKSMaxAge           time.Duration  // default 10 min
	TrustedProxies       []string
	DisableScope         bool
	CaseInsensitivePaths bool
	Realm                string // default "api"
	TokenPrefix          string // default "tsr"
	Introspection        *Client
	IntrospectionCache   time.Duration // default 10 s
	Revocations          *Client
	MaxStaleness         time.Duration // default 30 s
	ReconnectDelay       time.Duration // default 500 ms
	HTTPClient           *http.Client
	Now                  func() time.Time
}

// Auth is what a verified request may do.
type Auth struct {
	Sub       string
	Org       string
	Roles     []string
	TokenID   string // empty for app tokens
	ScopeKind string
	Endpoints []string
	AMR       []string
	ExpiresAt int64 // 0: none
}

// Verdict is the answer for a request: OK with Auth, or a refusal with its RFC 6750 challenge.
type Verdict struct {
	OK              bool
	Status          int
	Error           string // "" when the request carried no credentials
	Description     string
	WWWAuthenticate string
	Auth            *Auth
}

// Request is what the verifier reads of an HTTP request. URL is the path and query as received.
type Request struct {
	Method, URL, RemoteAddr string
	Header                  func(name string) (string, bool)
}

var quoteStrip = regexp.MustCompile(`["\\]`)

// Refuse builds a refusal with its WWW-Authenticate (401 and 403 only).
func Refuse(realm string, status int, code, description string) Verdict {
	parts := []string{`Bearer realm="` + quoteStrip.ReplaceAllString(realm, "") + `"`}
	if code != "" && code != "temporarily_unavailable" {
		parts = append(parts, `error="`+code+`"`, `error_description="`+quoteStrip.ReplaceAllString(description, "")+`"`)
	}
	v := Verdict{Status: status, Error: code, Description: description}
	if status == 401 || status == 403 {
		v.WWWAuthenticate = strings.Join(parts, ", ")
	}
	return v
}

type checked struct {
	auth      Auth
	endpoints []EndpointPattern // nil: scope all
	allowlist []IPRange
	expiresAt float64 // seconds
	jti       string
	iat       float64
	mu        sync.Mutex
	decisions map[string]bool
}

type knownKey struct {
	key       any
	alg       string
	checkedAt time.Time
}

// Verifier verifies requests against Tessera; one per process.
type Verifier struct {
	opts       Options
	issuer     string
	skew       float64
	algorithms []string
	trusted    []IPRange
	feed       *RevocationFeed
	client     *http.Client
	now        func() time.Time

	keysMu    sync.Mutex
	keys      map[string]knownKey
	lastFetch time.Time

	cacheMu sync.Mutex
	cache   map[string]*checked
}

type unreachable struct{}

func (unreachable) Error() string { return "the token service could not be reached" }

// New makes a Verifier and, with Revocations, starts following the feed.
func New(opts Options) *Verifier {
	v := &Verifier{opts: opts, issuer: strings.TrimRight(opts.Issuer, "/"), keys: map[string]knownKey{}, cache: map[string]*checked{}}
	v.skew = 5
	if opts.ClockSkew != nil {
		v.skew = opts.ClockSkew.Seconds()
	}
	if v.opts.JWKSCooldown == 0 {
		v.opts.JWKSCooldown = 30 * time.Second
	}
	if v.opts.JWKSMaxAge == 0 {
		v.opts.JWKSMaxAge = 10 * time.Minute
	}
	if v.opts.Realm == "" {
		v.opts.Realm = "api"
	}
	if v.opts.TokenPrefix == "" {
		v.opts.TokenPrefix = "tsr"
	}
	if v.opts.IntrospectionCache == 0 {
		v.opts.IntrospectionCache = 10 * time.Second
	}
	if v.opts.MaxStaleness == 0 {
		v.opts.MaxStaleness = 30 * time.Second
	}
	if v.opts.ReconnectDelay == 0 {
		v.opts.ReconnectDelay = 500 * time.Millisecond
	}
	if v.opts.JWKSURI == "" {
		v.opts.JWKSURI = v.issuer + "/.well-known/jwks.json"
	}
	v.client = opts.HTTPClient
	if v.client == nil {
		v.client = &http.Client{}
	}
	v.now = opts.Now
	if v.now == nil {
		v.now = time.Now
	}
	algorithms := opts.Algorithms
	if len(algorithms) == 0 {
		algorithms = []string{"EdDSA", "ES256", "RS256"}
	}
	// RFC 8725 §3.1: only these three; none and HMAC can never pass.
	for _, alg := range algorithms {
		if alg == "EdDSA" || alg == "ES256" || alg == "RS256" {
			v.algorithms = append(v.algorithms, alg)
		}
	}
	trusted, err := ParseIPAllowlist(opts.TrustedProxies)
	if err != nil {
		panic("verify: TrustedProxies: " + err.Error())
	}
	v.trusted = trusted
	if opts.Revocations != nil {
		feedURL := opts.Revocations.URL
		if feedURL == "" {
			feedURL = v.issuer + "/oauth/revocations"
		}
		v.feed = newRevocationFeed(feedURL, opts.Revocations.ID, opts.Revocations.Secret, v.opts.ReconnectDelay, &http.Client{})
		go v.feed.run()
	}
	return v
}

// WaitReady waits up to timeout for the feed's backlog; true at once without a feed.
func (v *Verifier) WaitReady(timeout time.Duration) bool {
	if v.feed == nil {
		return true
	}
	select {
	case <-v.feed.synced:
		return true
	case <-time.After(timeout):
		return false
	}
}

// Close stops following the feed.
func (v *Verifier) Close() {
	if v.feed != nil {
		v.feed.Stop()
	}
}

func (v *Verifier) invalid(description string) Verdict {
	if description == "" {
		// RFC 6750 §3.1 / RFC 7662 §2.2: a revoked, expired or unknown token gets one answer.
		description = "The access token is not valid"
	}
	return Refuse(v.opts.Realm, 401, "invalid_token", description)
}

func (v *Verifier) unreachableVerdict() Verdict {
	return Refuse(v.opts.Realm, 503, "temporarily_unavailable", "The token service could not be reached; try again shortly")
}

// ---- keys ---------------------------------------------------------------------------------

func b64(text string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(text, "="))
}

func keyOf(jwk map[string]any) (any, string, bool) {
	text := func(name string) string { s, _ := jwk[name].(string); return s }
	var key any
	var alg string
	switch text("kty") {
	case "OKP":
		x, err := b64(text("x"))
		if text("crv") != "Ed25519" || err != nil || len(x) != ed25519.PublicKeySize {
			return nil, "", false
		}
		key, alg = ed25519.PublicKey(x), "EdDSA"
	case "EC":
		x, errX := b64(text("x"))
		y, errY := b64(text("y"))
		if text("crv") != "P-256" || errX != nil || errY != nil || len(x) != 32 || len(y) != 32 {
			return nil, "", false
		}
		public, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
		if err != nil {
			return nil, "", false
		}
		key, alg = public, "ES256"
	case "RSA":
		n, errN := b64(text("n"))
		e, errE := b64(text("e"))
		if errN != nil || errE != nil || len(e) == 0 || len(e) > 4 {
			return nil, "", false
		}
		exponent := 0
		for _, b := range e {
			exponent = exponent<<8 | int(b)
		}
		key, alg = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: exponent}, "RS256"
	default:
		return nil, "", false
	}
	if declared := text("alg"); declared != "" && declared != alg {
		return nil, "", false
	}
	return key, alg, true
}

func (v *Verifier) fetchJWKS() ([]map[string]any, error) {
	response, err := v.client.Get(v.opts.JWKSURI)
	if err != nil {
		return nil, unreachable{}
	}
	defer response.Body.Close()
	var body struct {
		Keys []map[string]any `json:"keys"`
	}
	if response.StatusCode != http.StatusOK || json.NewDecoder(response.Body).Decode(&body) != nil || body.Keys == nil {
		return nil, unreachable{}
	}
	return body.Keys, nil
}

func (v *Verifier) key(kid string) (*knownKey, error) {
	v.keysMu.Lock()
	defer v.keysMu.Unlock()
	now := v.now()
	known, ok := v.keys[kid]
	if ok && now.Sub(known.checkedAt) <= v.opts.JWKSMaxAge {
		return &known, nil
	}
	// An unknown kid refetches at most once per cooldown: rotation is picked up, a flood of
	// made-up kids is not.
	if !ok && !v.lastFetch.IsZero() && now.Sub(v.lastFetch) < v.opts.JWKSCooldown {
		return nil, nil
	}
	published, err := v.fetchJWKS()
	if err != nil {
		// Our outage, not the caller's fault: a known key keeps working (asked again after the
		// cooldown); an unknown one is a 503.
		if !ok {
			return nil, err
		}
		known.checkedAt = now.Add(-v.opts.JWKSMaxAge + v.opts.JWKSCooldown)
		v.keys[kid] = known
		return &known, nil
	}
	v.lastFetch = now
	fresh := map[string]knownKey{}
	for _, jwk := range published {
		id, _ := jwk["kid"].(string)
		if use, present := jwk["use"].(string); id == "" || (present && use != "sig") {
			continue
		}
		if key, alg, ok := keyOf(jwk); ok {
			fresh[id] = knownKey{key, alg, now}
		}
	}
	// A key the issuer no longer publishes (retired) stops verifying.
	v.keys = fresh
	if k, ok := fresh[kid]; ok {
		return &k, nil
	}
	return nil, nil
}

// ---- credentials ----------------------------------------------------------------------------

func stringsOf(value any) []string {
	list, _ := value.([]any)
	out := []string{}
	for _, item := range list {
		if s, ok := item.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func number(value any) (float64, bool) {
	n, ok := value.(float64)
	return n, ok
}

func fromClaims(claims map[string]any, expiresAt float64) (*checked, error) {
	kind, ok := claims["scope"].(string)
	if !ok {
		kind = "all"
	}
	endpoints := stringsOf(claims["endpoints"])
	allowlist := stringsOf(claims["ip_allowlist"])
	sub, _ := claims["sub"].(string)
	org, _ := claims["org"].(string)
	tid, _ := claims["tid"].(string)
	jti, _ := claims["jti"].(string)
	iat, _ := number(claims["iat"])
	exp, _ := number(claims["exp"])
	c := &checked{expiresAt: expiresAt, jti: jti, iat: iat, decisions: map[string]bool{}}
	c.auth = Auth{Sub: sub, Org: org, Roles: stringsOf(claims["roles"]), TokenID: tid, ScopeKind: kind, AMR: stringsOf(claims["amr"]), ExpiresAt: int64(exp)}
	if kind != "all" {
		c.auth.Endpoints = endpoints
		patterns, err := ParseEndpointPatterns(endpoints)
		if err != nil {
			return nil, err
		}
		c.endpoints = patterns
	}
	if len(allowlist) > 0 {
		ranges, err := ParseIPAllowlist(allowlist)
		if err != nil {
			return nil, err
		}
		c.allowlist = ranges
	}
	return c, nil
}

func (v *Verifier) checkJWT(token string) (*checked, *Verdict, error) {
	refused := func(verdict Verdict) (*checked, *Verdict, error) { return nil, &verdict, nil }
	parts := strings.Split(token, ".")
	headerBytes, err := base64.RawURLEncoding.DecodeString(parts[0])
	var header map[string]any
	if err != nil || json.Unmarshal(headerBytes, &header) != nil {
		return refused(v.invalid(""))
	}
	alg, _ := header["alg"].(string)
	if !contains(v.algorithms, alg) {
		return refused(v.invalid(""))
	}
	// RFC 9068 §4: the type must be at+jwt.
	if typ, _ := header["typ"].(string); typ != "at+jwt" && typ != "application/at+jwt" {
		return refused(v.invalid(""))
	}
	kid, ok := header["kid"].(string)
	if !ok || len(kid) > 200 {
		return refused(v.invalid(""))
	}
	known, err := v.key(kid)
	if err != nil {
		return nil, nil, err
	}
	// RFC 8725 §3.1: the key decides the algorithm; a header naming another is refused.
	if known == nil || known.alg != alg {
		return refused(v.invalid(""))
	}
	claims := jwt.MapClaims{}
	_, err = jwt.ParseWithClaims(token, claims, func(*jwt.Token) (any, error) { return known.key, nil },
		jwt.WithValidMethods([]string{alg}), jwt.WithoutClaimsValidation())
	if err != nil {
		return refused(v.invalid(""))
	}
	now := float64(v.now().UnixNano()) / 1e9
	if iss, _ := claims["iss"].(string); iss != v.issuer {
		return refused(v.invalid(""))
	}
	audiences := []any{claims["aud"]}
	if list, ok := claims["aud"].([]any); ok {
		audiences = list
	}
	matched := false
	for _, aud := range audiences {
		if s, ok := aud.(string); ok && contains(v.opts.Audience, s) {
			matched = true
		}
	}
	if !matched {
		return refused(v.invalid(""))
	}
	exp, ok := number(claims["exp"])
	if !ok || exp+v.skew <= now {
		return refused(v.invalid(""))
	}
	if nbf, ok := number(claims["nbf"]); ok && nbf-v.skew > now {
		return refused(v.invalid(""))
	}
	if iat, ok := number(claims["iat"]); !ok || iat-v.skew > now {
		return refused(v.invalid(""))
	}
	_, subOK := claims["sub"].(string)
	_, jtiOK := claims["jti"].(string)
	if !subOK || !jtiOK {
		return refused(v.invalid(""))
	}
	c, err := fromClaims(claims, exp)
	if err != nil {
		return refused(v.invalid("")) // unparseable endpoint or allowlist claims: refuse, never guess
	}
	return c, nil, nil
}

func (v *Verifier) checkDirect(token string) (*checked, *Verdict, error) {
	settings := v.opts.Introspection
	if settings == nil {
		verdict := v.invalid("This API accepts access tokens only; exchange the API token at the token endpoint")
		return nil, &verdict, nil
	}
	endpoint := settings.URL
	if endpoint == "" {
		endpoint = v.issuer + "/oauth/introspect"
	}
	request, err := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(url.Values{"token": {token}, "token_type_hint": {"api_token"}}.Encode()))
	if err != nil {
		return nil, nil, unreachable{}
	}
	request.Header.Set("content-type", "application/x-www-form-urlencoded")
	request.SetBasicAuth(url.QueryEscape(settings.ID), url.QueryEscape(settings.Secret))
	response, err := v.client.Do(request)
	if err != nil {
		return nil, nil, unreachable{}
	}
	defer response.Body.Close()
	var body map[string]any
	if response.StatusCode != http.StatusOK || json.NewDecoder(response.Body).Decode(&body) != nil {
		return nil, nil, unreachable{}
	}
	if active, _ := body["active"].(bool); !active {
		verdict := v.invalid("")
		return nil, &verdict, nil
	}
	until := float64(v.now().Add(v.opts.IntrospectionCache).UnixNano()) / 1e9
	if exp, ok := number(body["exp"]); ok && exp < until {
		until = exp // the cached answer never outlives the token itself
	}
	c, err := fromClaims(body, until)
	if err != nil {
		verdict := v.invalid("")
		return nil, &verdict, nil
	}
	return c, nil, nil
}

// ---- the request ----------------------------------------------------------------------------

var bearer = regexp.MustCompile(`(?i)^Bearer +([A-Za-z0-9._~+/-]+=*) *$`)
var bearerScheme = regexp.MustCompile(`(?i)^Bearer\b`)

func (v *Verifier) authorize(request Request, cacheKey string, c *checked) Verdict {
	if v.feed != nil && v.feed.IsRevoked(c.jti, c.auth.TokenID, c.auth.Sub, c.auth.Org, c.iat) {
		v.cacheMu.Lock()
		delete(v.cache, cacheKey)
		v.cacheMu.Unlock()
		return v.invalid("")
	}
	if len(c.allowlist) > 0 {
		var forwarded *string
		if value, ok := request.Header("x-forwarded-for"); ok {
			forwarded = &value
		}
		if !IsIPAllowed(c.allowlist, ResolveClientAddress(request.RemoteAddr, forwarded, v.trusted)) {
			return v.invalid("")
		}
	}
	if !v.opts.DisableScope && c.endpoints != nil {
		key := request.Method + " " + request.URL
		c.mu.Lock()
		allowed, seen := c.decisions[key]
		if !seen {
			allowed = MatchesEndpoint(c.endpoints, request.Method, request.URL, v.opts.CaseInsensitivePaths)
			if len(c.decisions) < 256 {
				c.decisions[key] = allowed
			}
		}
		c.mu.Unlock()
		if !allowed {
			path, _, _ := strings.Cut(request.URL, "?")
			return Refuse(v.opts.Realm, 403, "insufficient_scope", "The token's scope does not include "+request.Method+" "+path)
		}
	}
	auth := c.auth
	return Verdict{OK: true, Status: 200, Auth: &auth}
}

// Verify verifies a request; refusals are values, never errors.
func (v *Verifier) Verify(request Request) Verdict {
	authorization, _ := request.Header("authorization")
	if authorization == "" {
		return Refuse(v.opts.Realm, 401, "", "Authentication required")
	}
	now := v.now()
	if v.feed != nil && now.Sub(v.feed.LastContact()) > v.opts.MaxStaleness {
		// A server that cannot know whether a token was revoked does not guess.
		return Refuse(v.opts.Realm, 503, "temporarily_unavailable", "Revocation state is out of date; try again shortly")
	}
	nowSeconds := float64(now.UnixNano()) / 1e9
	v.cacheMu.Lock()
	c := v.cache[authorization]
	if c != nil && c.expiresAt+v.skew <= nowSeconds {
		delete(v.cache, authorization)
		c = nil
	}
	v.cacheMu.Unlock()
	if c != nil {
		return v.authorize(request, authorization, c)
	}
	match := bearer.FindStringSubmatch(authorization)
	if match == nil {
		if bearerScheme.MatchString(authorization) {
			return Refuse(v.opts.Realm, 400, "invalid_request", "Malformed Authorization header")
		}
		return Refuse(v.opts.Realm, 401, "", "Authentication required: use the Bearer scheme")
	}
	token := match[1]
	var refusal *Verdict
	var err error
	switch {
	case IsAPIToken(token, v.opts.TokenPrefix):
		c, refusal, err = v.checkDirect(token)
	case strings.Count(token, ".") == 2:
		c, refusal, err = v.checkJWT(token)
	default:
		verdict := v.invalid("")
		refusal = &verdict
	}
	if err != nil {
		return v.unreachableVerdict()
	}
	if refusal != nil {
		return *refusal
	}
	v.cacheMu.Lock()
	if len(v.cache) >= 10_000 {
		for key := range v.cache {
			delete(v.cache, key)
			break
		}
	}
	v.cache[authorization] = c
	v.cacheMu.Unlock()
	return v.authorize(request, authorization, c)
}
