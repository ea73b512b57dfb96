package verify

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// RevocationFeed follows Tessera's revocation feed (SPEC 5.4): Server-Sent Events at
// <issuer>/oauth/revocations, as @tessera/verify's RevocationFeed does. Revoked ids are kept in
// memory, Last-Event-ID resumes after a drop, and every event or heartbeat counts as contact so
// the verifier fails closed when the feed goes quiet.
type RevocationFeed struct {
	url, clientID, clientSecret string
	reconnectDelay, readTimeout time.Duration
	client                      *http.Client

	mu         sync.Mutex
	tokens     map[string]bool
	jtis       map[string]bool
	principals map[string]int64
	// cutoffs keyed "org" or "org/owner": the latest `before` of each (SPEC 9, revoke-all).
	cutoffs map[string]int64
	cursor  string

	lastContact atomic.Int64 // unix nanoseconds
	synced      chan struct{}
	syncOnce    sync.Once
	ctx         context.Context
	cancel      context.CancelFunc
}

func newRevocationFeed(feedURL, clientID, clientSecret string, reconnectDelay time.Duration, client *http.Client) *RevocationFeed {
	ctx, cancel := context.WithCancel(context.Background())
	return &RevocationFeed{
		url: feedURL, clientID: clientID, clientSecret: clientSecret, reconnectDelay: reconnectDelay, readTimeout: 5 * time.Second, client: client,
		tokens: map[string]bool{}, jtis: map[string]bool{}, principals: map[string]int64{}, cutoffs: map[string]int64{},
		synced: make(chan struct{}), ctx: ctx, cancel: cancel,
	}
}

// LastContact is the time of the last event or heartbeat (zero before the first).
func (f *RevocationFeed) LastContact() time.Time {
	n := f.lastContact.Load()
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// IsRevoked reports whether a token with these claims has been revoked. iat is 0 when the
// token carries none (a direct token's introspection answer).
func (f *RevocationFeed) IsRevoked(jti, tid, sub, org string, iat float64) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if jti != "" && f.jtis[jti] {
		return true
	}
	if tid != "" && f.tokens[tid] {
		return true
	}
	// A cutoff concerns access tokens minted from API tokens (they carry tid and iat): one event
	// stands for every API token of the organization, or of one owner, issued before `before`.
	if tid != "" && iat != 0 && org != "" && len(f.cutoffs) > 0 {
		if before, ok := f.cutoffs[org]; ok && iat < float64(before) {
			return true
		}
		if before, ok := f.cutoffs[org+"/"+sub]; ok && sub != "" && iat < float64(before) {
			return true
		}
	}
	since, ok := f.principals[sub]
	return ok && iat <= float64(since)
}

func (f *RevocationFeed) touch() { f.lastContact.Store(time.Now().UnixNano()) }

func (f *RevocationFeed) dispatch(event, data, id string) {
	f.touch()
	f.mu.Lock()
	if id != "" {
		f.cursor = id
	}
	f.mu.Unlock()
	switch event {
	case "revocation":
		var body struct {
			Kind   string   `json:"kind"`
			ID     string   `json:"id"`
			At     int64    `json:"at"`
			Org    string   `json:"org"`
			Owner  *string  `json:"owner"`
			Before *float64 `json:"before"`
		}
		if json.Unmarshal([]byte(data), &body) != nil || body.ID == "" {
			return // a malformed event is skipped; the stream continues
		}
		f.mu.Lock()
		switch body.Kind {
		case "token":
			f.tokens[body.ID] = true
		case "access_token":
			f.jtis[body.ID] = true
		case "principal":
			if body.At > f.principals[body.ID] {
				f.principals[body.ID] = body.At
			}
		case "cutoff":
			if body.Org == "" || body.Before == nil {
				break // a cutoff without its organization or instant is skipped, as a malformed event
			}
			key := body.Org
			if body.Owner != nil {
				key += "/" + *body.Owner
			}
			if before := int64(*body.Before); before > f.cutoffs[key] {
				f.cutoffs[key] = before
			}
		}
		f.mu.Unlock()
	case "synced":
		f.syncOnce.Do(func() { close(f.synced) })
	}
}

func (f *RevocationFeed) follow() error {
	ctx, cancel := context.WithCancel(f.ctx)
	defer cancel()
	request, err := http.NewRequestWithContext(ctx, http.MethodGet, f.url, nil)
	if err != nil {
		return err
	}
	// RFC 6749 §2.3.1: each part form-encoded before Basic.
	request.SetBasicAuth(url.QueryEscape(f.clientID), url.QueryEscape(f.clientSecret))
	request.Header.Set("accept", "text/event-stream")
	f.mu.Lock()
	if f.cursor != "" {
		request.Header.Set("last-event-id", f.cursor)
	}
	f.mu.Unlock()
	// Well above the server's 1 s heartbeat: a silent socket is a dead feed, so reconnect.
	watchdog := time.AfterFunc(f.readTimeout, cancel)
	defer watchdog.Stop()
	response, err := f.client.Do(request)
	if err != nil {
		return err
	}
	defer response.Body.Close()
	if response.StatusCode != http.StatusOK {
		return &RuleError{"revocation feed answered " + response.Status}
	}
	reader := bufio.NewReader(response.Body)
	event, id := "message", ""
	var data []string
	for {
		line, err := reader.ReadString('\n')
		if err != nil {
			return err
		}
		watchdog.Reset(f.readTimeout)
		line = strings.TrimRight(line, "\r\n")
		switch {
		case line == "":
			if len(data) > 0 || event != "message" {
				f.dispatch(event, strings.Join(data, "\n"), id)
			}
			event, id, data = "message", "", nil
		case strings.HasPrefix(line, ":"):
			f.touch() // heartbeat comment
		default:
			field, value, _ := strings.Cut(line, ":")
			value = strings.TrimPrefix(value, " ")
			switch field {
			case "event":
				event = value
			case "data":
				data = append(data, value)
			case "id":
				id = value
			}
		}
	}
}

func (f *RevocationFeed) run() {
	for f.ctx.Err() == nil {
		_ = f.follow()
		select {
		case <-f.ctx.Done():
			return
		case <-time.After(f.reconnectDelay):
		}
	}
}

// Stop closes the stream and stops reconnecting.
func (f *RevocationFeed) Stop() { f.cancel() }
