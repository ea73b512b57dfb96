package verify

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Keys: ES256 and RS256 as well as EdDSA, as the JWKS says; the header's alg must match the
// key; rotation picks up a new kid, a retired key stops verifying, an outage keeps known keys.

type keyIssuer struct {
	mu        sync.Mutex
	keys      map[string]crypto.Signer
	algs      map[string]string
	published []string
	failing   bool
	fetches   int
	server    *httptest.Server
}

func b64u(data []byte) string { return base64.RawURLEncoding.EncodeToString(data) }

func newKeyIssuer() *keyIssuer {
	k := &keyIssuer{keys: map[string]crypto.Signer{}, algs: map[string]string{}}
	k.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		k.mu.Lock()
		defer k.mu.Unlock()
		k.fetches++
		if k.failing {
			w.WriteHeader(500)
			return
		}
		jwks := []map[string]any{}
		for _, kid := range k.published {
			jwk := map[string]any{"kid": kid, "alg": k.algs[kid], "use": "sig"}
			switch public := k.keys[kid].Public().(type) {
			case ed25519.PublicKey:
				jwk["kty"], jwk["crv"], jwk["x"] = "OKP", "Ed25519", b64u(public)
			case *ecdsa.PublicKey:
				raw, _ := public.Bytes()
				jwk["kty"], jwk["crv"], jwk["x"], jwk["y"] = "EC", "P-256", b64u(raw[1:33]), b64u(raw[33:])
			case *rsa.PublicKey:
				jwk["kty"], jwk["n"], jwk["e"] = "RSA", b64u(public.N.Bytes()), b64u(big.NewInt(int64(public.E)).Bytes())
			}
			jwks = append(jwks, jwk)
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": jwks})
	}))
	return k
}

func (k *keyIssuer) add(kid, alg string) {
	var key crypto.Signer
	switch alg {
	case "EdDSA":
		_, key, _ = ed25519.GenerateKey(rand.Reader)
	case "ES256":
		key, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "RS256":
		key, _ = rsa.GenerateKey(rand.Reader, 2048)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.keys[kid], k.algs[kid] = key, alg
	k.published = append(k.published, kid)
}

func (k *keyIssuer) sign(t *testing.T, kid, alg string, at time.Time) string {
	t.Helper()
	if alg == "" {
		alg = k.algs[kid]
	}
	token := jwt.NewWithClaims(jwt.GetSigningMethod(alg), jwt.MapClaims{
		"iss": k.server.URL, "aud": "api", "sub": "usr_1", "org": "org_1", "scope": "all", "jti": b64u([]byte(at.String() + kid)),
		"iat": at.Unix(), "exp": at.Add(10 * time.Minute).Unix(),
	})
	token.Header["kid"], token.Header["typ"] = kid, "at+jwt"
	signed, err := token.SignedString(k.keys[kid])
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

func TestEachAlgorithmFromTheJWKS(t *testing.T) {
	for _, alg := range []string{"EdDSA", "ES256", "RS256"} {
		k := newKeyIssuer()
		k.add("k1", alg)
		v := New(Options{Issuer: k.server.URL, Audience: []string{"api"}})
		if verdict := v.Verify(bearerRequest("GET", "/plans", k.sign(t, "k1", "", time.Now()))); !verdict.OK {
			t.Errorf("%s: %+v", alg, verdict)
		}
		k.server.Close()
	}
}

func TestTheHeaderAlgMustMatchTheKey(t *testing.T) {
	k := newKeyIssuer()
	defer k.server.Close()
	k.add("rsa", "RS256")
	k.add("ec", "ES256")
	v := New(Options{Issuer: k.server.URL, Audience: []string{"api"}})
	if verdict := v.Verify(bearerRequest("GET", "/", k.sign(t, "rsa", "PS256", time.Now()))); verdict.Error != "invalid_token" {
		t.Fatalf("PS256 under an RS256 key: %+v", verdict)
	}
	only := New(Options{Issuer: k.server.URL, Audience: []string{"api"}, Algorithms: []string{"EdDSA"}})
	if verdict := only.Verify(bearerRequest("GET", "/", k.sign(t, "ec", "", time.Now()))); verdict.OK {
		t.Fatal("an algorithm not configured passed")
	}
}

func TestRotationRetirementAndOutage(t *testing.T) {
	k := newKeyIssuer()
	defer k.server.Close()
	clock := time.Now()
	k.add("old", "EdDSA")
	v := New(Options{Issuer: k.server.URL, Audience: []string{"api"}, Now: func() time.Time { return clock }})
	check := func(kid string) Verdict { return v.Verify(bearerRequest("GET", "/plans", k.sign(t, kid, "", clock))) }
	if !check("old").OK {
		t.Fatal("old key")
	}
	k.add("new", "ES256")
	if check("new").Error != "invalid_token" {
		t.Fatal("within the cooldown a new kid is not fetched")
	}
	clock = clock.Add(31 * time.Second)
	if !check("new").OK {
		t.Fatal("rotation not picked up after the cooldown")
	}
	fetches := k.fetches
	for i := 0; i < 5; i++ {
		check("new")
	}
	if k.fetches != fetches {
		t.Fatal("known keys cost a fetch")
	}
	k.mu.Lock()
	k.failing = true
	k.mu.Unlock()
	clock = clock.Add(601 * time.Second)
	if !check("new").OK {
		t.Fatal("a known key stops working during a JWKS outage")
	}
	k.mu.Lock()
	k.failing = false
	k.published = []string{"new"}
	k.mu.Unlock()
	clock = clock.Add(601 * time.Second)
	if check("old").Error != "invalid_token" {
		t.Fatal("a retired key still verifies")
	}
	if !check("new").OK {
		t.Fatal("the current key")
	}
}
