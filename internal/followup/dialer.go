package followup

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"suifang/internal/access"
)

// HTTPDialer asks a CTI (call-centre telephony) system to place a call by
// POSTing {"agent": user name, "agent_id": id, "phone": number} as JSON to
// URL; any 2xx answer means the call is being placed. The agent's extension
// is the CTI system's business: it maps the user name to a seat.
type HTTPDialer struct {
	URL    string
	Token  string // sent as "Authorization: Bearer …" when set
	Client *http.Client
}

// NewHTTPDialer returns a dialer with a 10-second timeout.
func NewHTTPDialer(url, token string) *HTTPDialer {
	return &HTTPDialer{URL: url, Token: token, Client: &http.Client{Timeout: 10 * time.Second}}
}

// Dial implements Dialer.
func (d *HTTPDialer) Dial(ctx context.Context, agent *access.Principal, phone string) error {
	body, err := json.Marshal(map[string]any{"agent": agent.Username, "agent_id": agent.UserID, "phone": phone})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("cti: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if d.Token != "" {
		req.Header.Set("Authorization", "Bearer "+d.Token)
	}
	resp, err := d.Client.Do(req)
	if err != nil {
		return fmt.Errorf("cti: %w", err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("cti: %s answered %s", d.URL, resp.Status)
	}
	return nil
}
