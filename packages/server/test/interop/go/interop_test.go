// Package interop verifies Tessera access tokens with golang-jwt/jwt v5 and MicahParks/keyfunc v3,
// as their READMEs show. Run by ../go.test.ts against a real server, which passes the issuer, the
// algorithm it signs with and a fresh access token in the environment.
package interop

import (
	"os"
	"testing"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
)

func TestVerifyAccessToken(t *testing.T) {
	issuer, alg, token := os.Getenv("TESSERA_ISSUER"), os.Getenv("TESSERA_ALG"), os.Getenv("TESSERA_ACCESS_TOKEN")
	if issuer == "" || token == "" {
		t.Fatal("TESSERA_ISSUER and TESSERA_ACCESS_TOKEN must be set (run through go.test.ts)")
	}
	k, err := keyfunc.NewDefault([]string{issuer + "/.well-known/jwks.json"})
	if err != nil {
		t.Fatalf("keyfunc: %v", err)
	}
	parsed, err := jwt.Parse(token, k.Keyfunc,
		jwt.WithValidMethods([]string{"ES256", "RS256", "EdDSA"}),
		jwt.WithIssuer(issuer),
		jwt.WithAudience("api"),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
	)
	if err != nil {
		t.Fatalf("jwt.Parse: %v", err)
	}
	if parsed.Method.Alg() != alg {
		t.Fatalf("signed with %s, expected %s", parsed.Method.Alg(), alg)
	}
	if typ, _ := parsed.Header["typ"].(string); typ != "at+jwt" {
		t.Fatalf("typ %q, expected at+jwt (RFC 9068)", typ)
	}
	claims := parsed.Claims.(jwt.MapClaims)
	if _, ok := claims["client_id"].(string); !ok {
		t.Fatal("no client_id claim")
	}
	// A tampered signature must fail.
	if _, err := jwt.Parse(token[:len(token)-4]+"AAAA", k.Keyfunc, jwt.WithValidMethods([]string{alg})); err == nil {
		t.Fatal("a tampered token verified")
	}
}
