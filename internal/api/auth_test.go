package api

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"suifang/internal/store"
	"suifang/internal/store/storetest"
)

func TestAPIAuth(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, nil)

		t.Run("no token", func(t *testing.T) {
			w := e.do("GET", "/api/v1/me", "")
			wantProblem(t, w, http.StatusUnauthorized, "missing_token")
			if h := w.Header().Get("WWW-Authenticate"); !strings.HasPrefix(h, "Bearer") || strings.Contains(h, "error=") {
				t.Errorf("WWW-Authenticate %q", h)
			}
		})
		for name, hdr := range map[string]string{
			"unknown token": "Bearer sft_doesnotexist",
			"not sft":       "Bearer abc",
			"basic scheme":  "Basic YWRtaW46cGFzcw==",
			"no credential": "Bearer ",
			"revoked":       "Bearer " + e.revoked,
			"too long":      "Bearer sft_" + strings.Repeat("x", 600),
		} {
			t.Run(name, func(t *testing.T) {
				w := e.do("GET", "/api/v1/me", "", "Authorization", hdr)
				wantProblem(t, w, http.StatusUnauthorized, "bad_token")
				if h := w.Header().Get("WWW-Authenticate"); !strings.HasPrefix(h, "Bearer") || !strings.Contains(h, `error="invalid_token"`) {
					t.Errorf("WWW-Authenticate %q", h)
				}
			})
		}
		t.Run("session cookie is not accepted", func(t *testing.T) {
			w := e.do("GET", "/api/v1/me", "", "Cookie", "session="+e.tok1)
			wantProblem(t, w, http.StatusUnauthorized, "missing_token")
		})

		t.Run("me", func(t *testing.T) {
			var me meJSON
			wantJSON(t, e.do("GET", "/api/v1/me", e.tok1), &me)
			if me.Name != "his-h1" || me.InstitutionID != e.h1 || fmt.Sprint(me.Roles) != "[integration]" {
				t.Errorf("me = %+v", me)
			}
			// The scheme name is case-insensitive (RFC 9110).
			wantJSON(t, e.do("GET", "/api/v1/me", "", "Authorization", "bearer "+e.tok2), &me)
			if me.InstitutionID != e.h2 {
				t.Errorf("me with H2 token = %+v", me)
			}
		})
		t.Run("institution", func(t *testing.T) {
			var inst institutionJSON
			wantJSON(t, e.do("GET", "/api/v1/institution", e.tok2), &inst)
			want := institutionJSON{ID: e.h2, Code: "H2", Name: "第二医院", Kind: "hospital",
				Timezone: "Asia/Shanghai", ServiceHours: "08:00-17:30"}
			if inst != want {
				t.Errorf("institution = %+v, want %+v", inst, want)
			}
		})
	})
}

func TestAPIDepartmentScope(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, nil)
		get := func(tok string, id int64) (int, map[string]any) {
			w := e.do("GET", fmt.Sprintf("/api/v1/departments/%d", id), tok, "X-Request-Id", "fixed-id")
			return w.Code, decode(t, w)
		}

		var d departmentJSON
		wantJSON(t, e.do("GET", fmt.Sprintf("/api/v1/departments/%d", e.h1Depts[2]), e.tok1), &d)
		if d.ID != e.h1Depts[2] || d.Code != "NEUR" || d.Kind != "ward" || d.ParentID == nil || *d.ParentID != e.h1Depts[1] || !d.Active {
			t.Errorf("department = %+v", d)
		}
		w := e.do("GET", fmt.Sprintf("/api/v1/departments/%d", e.h1Depts[0]), e.tok1)
		if m := decode(t, w); m["parent_id"] != nil {
			t.Errorf("parent_id = %v, want null", m["parent_id"])
		} else if _, ok := m["parent_id"]; !ok {
			t.Error("parent_id missing, want null")
		}

		// H1's token asking for H2's department learns nothing: the answer
		// is the same as for an id that does not exist at all.
		wantProblem(t, e.do("GET", fmt.Sprintf("/api/v1/departments/%d", e.h2Dept), e.tok1), http.StatusNotFound, "department_not_found")
		st1, other := get(e.tok1, e.h2Dept)
		st2, missing := get(e.tok1, 999999)
		if st1 != http.StatusNotFound || st2 != http.StatusNotFound || fmt.Sprint(other) != fmt.Sprint(missing) {
			t.Errorf("cross-institution %d %v vs missing %d %v", st1, other, st2, missing)
		}
		// And the other way round.
		wantProblem(t, e.do("GET", fmt.Sprintf("/api/v1/departments/%d", e.h1Depts[0]), e.tok2), http.StatusNotFound, "department_not_found")
		wantJSON(t, e.do("GET", fmt.Sprintf("/api/v1/departments/%d", e.h2Dept), e.tok2), &d)

		for _, bad := range []string{"abc", "0", "-1", "99999999999999999999"} {
			wantProblem(t, e.do("GET", "/api/v1/departments/"+bad, e.tok1), http.StatusNotFound, "department_not_found")
		}
	})
}

func TestAPIDepartmentsPagination(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, nil)
		seen := map[int64]int{}
		var order []int64
		path, pages := "/api/v1/departments?limit=2", 0
		for {
			pages++
			if pages > 10 {
				t.Fatal("pagination does not end")
			}
			var page departmentPage
			wantJSON(t, e.do("GET", path, e.tok1), &page)
			if len(page.Items) > 2 {
				t.Fatalf("page of %d items with limit=2", len(page.Items))
			}
			for _, d := range page.Items {
				seen[d.ID]++
				order = append(order, d.ID)
			}
			if page.NextCursor == nil {
				break
			}
			path = "/api/v1/departments?limit=2&cursor=" + *page.NextCursor
		}
		if pages != 3 {
			t.Errorf("%d pages for 5 departments with limit=2, want 3", pages)
		}
		if fmt.Sprint(order) != fmt.Sprint(e.h1Depts) {
			t.Errorf("walked %v, want exactly H1's %v in id order", order, e.h1Depts)
		}
		for id, n := range seen {
			if n != 1 {
				t.Errorf("department %d seen %d times", id, n)
			}
		}

		// Default limit: one page, next_cursor present as null.
		w := e.do("GET", "/api/v1/departments", e.tok1)
		m := decode(t, w)
		if nc, ok := m["next_cursor"]; !ok || nc != nil || len(m["items"].([]any)) != 5 {
			t.Errorf("default page = %s", w.Body)
		}
		// Exactly one page when limit equals the count.
		var page departmentPage
		wantJSON(t, e.do("GET", "/api/v1/departments?limit=5", e.tok1), &page)
		if len(page.Items) != 5 || page.NextCursor != nil {
			t.Errorf("limit=5: %d items, next %v", len(page.Items), page.NextCursor)
		}
		// H2 sees only its own.
		wantJSON(t, e.do("GET", "/api/v1/departments", e.tok2), &page)
		if len(page.Items) != 1 || page.Items[0].ID != e.h2Dept {
			t.Errorf("H2 departments = %+v", page.Items)
		}

		for _, c := range []string{"!!!", "MA==", "MA", "LTE", "NA%0D", "MDQ", "YWJj", encodeCursor(1) + "=", strings.Repeat("MTIz", 20)} {
			p := wantProblem(t, e.do("GET", "/api/v1/departments?cursor="+c, e.tok1), http.StatusBadRequest, "bad_cursor")
			if f, _ := p["errors"].(map[string]any); f["cursor"] != "bad_cursor" {
				t.Errorf("cursor %q: errors = %v", c, p["errors"])
			}
		}
		for _, l := range []string{"0", "-3", "201", "ten", "2.5"} {
			p := wantProblem(t, e.do("GET", "/api/v1/departments?limit="+l, e.tok1), http.StatusBadRequest, "bad_limit")
			if f, _ := p["errors"].(map[string]any); f["limit"] != "bad_limit" {
				t.Errorf("limit %q: errors = %v", l, p["errors"])
			}
		}
		wantJSON(t, e.do("GET", "/api/v1/departments?limit=200", e.tok1), &page)
	})
}
