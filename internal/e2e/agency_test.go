package e2e

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"suifang/internal/access"
	"suifang/internal/app"
	"suifang/internal/audit"
)

var agencyTaskRE = regexp.MustCompile(`href="/followup/tasks/(\d+)`)

// TestAgencyDemoReach: the demo's agency (孙专员, third_party) works the
// surgery patients' calls H01 routes to it, on both engines, and the
// hospital's complaints and patient archive are refused and audited.
func TestAgencyDemoReach(t *testing.T) {
	engines(t, func(t *testing.T, s *server) {
		ctx := t.Context()
		c := s.client(t)
		c.login("agency", app.DemoPassword)
		var ids []int64
		for _, tab := range []string{"today", "overdue", "upcoming", "mine"} {
			r := c.get("/followup?tab=" + tab)
			if r.Status != http.StatusOK {
				t.Fatalf("worklist %s: %d", tab, r.Status)
			}
			for _, m := range agencyTaskRE.FindAllStringSubmatch(r.Body, -1) {
				id, _ := strconv.ParseInt(m[1], 10, 64)
				ids = append(ids, id)
			}
		}
		if len(ids) == 0 {
			t.Fatal("the agency has no calls in the demo")
		}
		for _, id := range ids {
			tk, err := s.App.Followup.Task(ctx, access.System(), id)
			if err != nil {
				t.Fatal(err)
			}
			if tk.Role != access.ThirdParty {
				t.Fatalf("the agency's worklist links the %s's %s task %d", tk.Role, tk.StepKey, id)
			}
		}
		r := c.get("/followup/tasks/" + itoa(ids[0]))
		if r.Status != http.StatusOK {
			t.Fatalf("own task: %d", r.Status)
		}
		for _, path := range []string{"/complaints/1", "/patients?q=" + url.QueryEscape("李"), "/complaints/1/sheet.pdf"} {
			if r := c.get(path); r.Status != http.StatusForbidden {
				t.Errorf("%s: %d, want 403", path, r.Status)
			}
		}
		if strings.Contains(c.get("/followup").Body, `href="/patients"`) {
			t.Error("the menu offers the agency the patient archive")
		}
		q := s.client(t)
		q.login("quality", app.DemoPassword)
		if r := q.get("/complaints/1"); r.Status != http.StatusOK {
			t.Fatalf("quality opens complaint 1: %d", r.Status)
		}
		es, err := s.App.Audit.List(ctx, access.System(), audit.Filter{Action: "access.refused", Actor: "agency"})
		if err != nil || len(es) < 3 {
			t.Fatalf("refusals audited: %d %v", len(es), err)
		}
	})
}
