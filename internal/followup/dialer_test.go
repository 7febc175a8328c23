package followup_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"suifang/internal/access"
	"suifang/internal/followup"
)

func TestHTTPDialerPostsTheCall(t *testing.T) {
	var got map[string]any
	var auth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth = r.Header.Get("Authorization")
		json.NewDecoder(r.Body).Decode(&got)
		if got["phone"] == "13800000000" {
			w.WriteHeader(http.StatusConflict)
		}
	}))
	defer srv.Close()
	d := followup.NewHTTPDialer(srv.URL, "secret")
	agent := &access.Principal{UserID: 7, Username: "agent"}
	if err := d.Dial(t.Context(), agent, "13812345678"); err != nil {
		t.Fatal(err)
	}
	if got["agent"] != "agent" || got["phone"] != "13812345678" || got["agent_id"] != float64(7) || auth != "Bearer secret" {
		t.Fatalf("CTI got %v (auth %q)", got, auth)
	}
	if err := d.Dial(t.Context(), agent, "13800000000"); err == nil {
		t.Fatal("a non-2xx answer must be an error")
	}
}
