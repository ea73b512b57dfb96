package verify

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// The repository root, the shared vectors (../shared beside it, found upwards so a worktree
// reads the same directory) and the conformance corpus, read in place, never copied.
var (
	repoRoot = func() string {
		_, file, _, _ := runtime.Caller(0)
		return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
	}()
	vectorsDir = func() string {
		for dir := filepath.Dir(repoRoot); ; dir = filepath.Dir(dir) {
			candidate := filepath.Join(dir, "shared", "vectors")
			if info, err := os.Stat(candidate); err == nil && info.IsDir() {
				return candidate
			}
			if filepath.Dir(dir) == dir {
				return filepath.Join(filepath.Dir(repoRoot), "shared", "vectors")
			}
		}
	}()
)

func readJSON(path string, into any) {
	data, err := os.ReadFile(path)
	if err != nil {
		panic(err)
	}
	if err := json.Unmarshal(data, into); err != nil {
		panic(err)
	}
}

type corpusCase struct {
	Name          string  `json:"name"`
	Authorization *string `json:"authorization"`
	Token         *struct {
		Claims map[string]any `json:"claims"`
		Header map[string]any `json:"header"`
		Key    string         `json:"key"`
		IatIn  *int64         `json:"iat_in"`
		ExpIn  *int64         `json:"exp_in"`
		Tamper bool           `json:"tamper"`
	} `json:"token"`
	Request struct {
		Method       string  `json:"method"`
		Path         string  `json:"path"`
		Peer         string  `json:"peer"`
		ForwardedFor *string `json:"forwarded_for"`
	} `json:"request"`
	Expect struct {
		Verdict string  `json:"verdict"`
		Status  int     `json:"status"`
		Error   *string `json:"error"`
	} `json:"expect"`
}

type corpusFile struct {
	Settings struct {
		Audience         string   `json:"audience"`
		ClockSkewSeconds int      `json:"clock_skew_seconds"`
		TrustedProxies   []string `json:"trusted_proxies"`
		Realm            string   `json:"realm"`
	} `json:"settings"`
	BaseClaims    map[string]any `json:"base_claims"`
	BaseHeader    map[string]any `json:"base_header"`
	TokenDefaults struct {
		IatIn int64 `json:"iat_in"`
		ExpIn int64 `json:"exp_in"`
	} `json:"token_defaults"`
	Cases []corpusCase `json:"cases"`
}

var corpus = func() corpusFile {
	var c corpusFile
	readJSON(filepath.Join(repoRoot, "sdks", "corpus", "cases.json"), &c)
	return c
}()

type signer struct {
	issuer, kid string
	key         ed25519.PrivateKey
}

var foreignKey = func() ed25519.PrivateKey { _, key, _ := ed25519.GenerateKey(rand.Reader); return key }()

func substitute(value any, s signer, now int64) any {
	text, ok := value.(string)
	switch {
	case !ok:
		return value
	case text == "$issuer":
		return s.issuer
	case text == "$kid":
		return s.kid
	case text == "$random":
		buf := make([]byte, 16)
		_, _ = rand.Read(buf)
		return base64.RawURLEncoding.EncodeToString(buf)
	case strings.HasPrefix(text, "$now"):
		n, _ := strconv.ParseInt(text[4:], 10, 64)
		return now + n
	}
	return value
}

func merge(base, overrides map[string]any, s signer, now int64) map[string]any {
	out := map[string]any{}
	for name, value := range base {
		out[name] = value
	}
	for name, value := range overrides {
		out[name] = value
	}
	for name, value := range out {
		if value == nil {
			delete(out, name)
		} else {
			out[name] = substitute(value, s, now)
		}
	}
	return out
}

// authorizationOf signs a case's token as sdks/corpus/corpus.ts does ("" for no header).
func authorizationOf(c corpusCase, s signer) string {
	if c.Authorization != nil {
		return *c.Authorization
	}
	now := time.Now().Unix()
	iatIn, expIn := corpus.TokenDefaults.IatIn, corpus.TokenDefaults.ExpIn
	var claimsOverride, headerOverride map[string]any
	key := s.key
	tamper := false
	if t := c.Token; t != nil {
		if t.IatIn != nil {
			iatIn = *t.IatIn
		}
		if t.ExpIn != nil {
			expIn = *t.ExpIn
		}
		claimsOverride, headerOverride, tamper = t.Claims, t.Header, t.Tamper
		if t.Key == "foreign" {
			key = foreignKey
		}
	}
	base := map[string]any{"iat": now + iatIn, "exp": now + expIn}
	for name, value := range corpus.BaseClaims {
		base[name] = value
	}
	header, _ := json.Marshal(merge(corpus.BaseHeader, headerOverride, s, now))
	claims, _ := json.Marshal(merge(base, claimsOverride, s, now))
	input := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(claims)
	signature := ed25519.Sign(key, []byte(input))
	if tamper {
		signature[0] ^= 1
	}
	return "Bearer " + input + "." + base64.RawURLEncoding.EncodeToString(signature)
}

// startCorpusIssuer serves the JWKS of a fresh Ed25519 key.
func startCorpusIssuer() (signer, func()) {
	public, private, _ := ed25519.GenerateKey(rand.Reader)
	jwks := fmt.Sprintf(`{"keys":[{"kty":"OKP","crv":"Ed25519","x":%q,"kid":"corpus-1","alg":"EdDSA","use":"sig"}]}`, base64.RawURLEncoding.EncodeToString(public))
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("content-type", "application/json")
		_, _ = w.Write([]byte(jwks))
	}))
	return signer{server.URL, "corpus-1", private}, server.Close
}

func requestOf(method, url, peer string, headers map[string]string) Request {
	return Request{Method: method, URL: url, RemoteAddr: peer, Header: func(name string) (string, bool) { value, ok := headers[name]; return value, ok }}
}
