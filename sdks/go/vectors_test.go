package verify

import (
	"path/filepath"
	"testing"
)

// Every case of the shared vectors (../shared/vectors/*.json) through the Go rules.

func TestScopeVectors(t *testing.T) {
	var vectors struct {
		Cases []struct {
			Patterns     []string `json:"patterns"`
			Method, Path string
			Allow        bool `json:"allow"`
		} `json:"cases"`
		Invalid []string `json:"invalid_patterns"`
	}
	readJSON(filepath.Join(vectorsDir, "scope-match.json"), &vectors)
	if len(vectors.Cases) == 0 {
		t.Fatal("no scope vectors")
	}
	for _, c := range vectors.Cases {
		patterns, err := ParseEndpointPatterns(c.Patterns)
		if err != nil {
			t.Fatalf("%v: %v", c.Patterns, err)
		}
		if got := MatchesEndpoint(patterns, c.Method, c.Path, false); got != c.Allow {
			t.Errorf("%v %s %s: got %v, want %v", c.Patterns, c.Method, c.Path, got, c.Allow)
		}
	}
	for _, pattern := range vectors.Invalid {
		if _, err := ParseEndpointPattern(pattern); !IsRuleError(err) {
			t.Errorf("pattern %q accepted", pattern)
		}
	}
}

func TestIPAllowlistVectors(t *testing.T) {
	var vectors struct {
		Valid []struct {
			Entry  string   `json:"entry"`
			Allows []string `json:"allows"`
			Denies []string `json:"denies"`
		} `json:"valid"`
		Invalid []string `json:"invalid"`
	}
	readJSON(filepath.Join(vectorsDir, "ip-allowlist.json"), &vectors)
	if len(vectors.Valid) == 0 {
		t.Fatal("no IP vectors")
	}
	for _, c := range vectors.Valid {
		entry, err := ParseIPEntry(c.Entry)
		if err != nil {
			t.Fatalf("%q: %v", c.Entry, err)
		}
		for _, address := range c.Allows {
			if !IsIPAllowed([]IPRange{entry}, address) {
				t.Errorf("%q should allow %s", c.Entry, address)
			}
		}
		for _, address := range c.Denies {
			if IsIPAllowed([]IPRange{entry}, address) {
				t.Errorf("%q should deny %s", c.Entry, address)
			}
		}
	}
	for _, entry := range vectors.Invalid {
		if _, err := ParseIPEntry(entry); !IsRuleError(err) {
			t.Errorf("entry %q accepted", entry)
		}
	}
}

func TestExpiryVectors(t *testing.T) {
	var vectors struct {
		Valid []struct {
			Input   string `json:"input"`
			Seconds int64  `json:"seconds"`
		} `json:"valid"`
		Invalid []string `json:"invalid"`
	}
	readJSON(filepath.Join(vectorsDir, "expiry.json"), &vectors)
	for _, c := range vectors.Valid {
		if got, err := ParseRelativeExpiry(c.Input); err != nil || got != c.Seconds {
			t.Errorf("%q: got %d, %v; want %d", c.Input, got, err, c.Seconds)
		}
	}
	for _, input := range vectors.Invalid {
		if _, err := ParseRelativeExpiry(input); err == nil {
			t.Errorf("expiry %q accepted", input)
		}
	}
}
