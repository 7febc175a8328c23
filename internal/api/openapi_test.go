package api

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

var pathParamRE = regexp.MustCompile(`\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// fetchOpenAPI serves the document through the handler (no token, no DB).
func fetchOpenAPI(t *testing.T) (map[string]any, *httptest.ResponseRecorder) {
	t.Helper()
	w := httptest.NewRecorder()
	New(Deps{Version: "1.2.3"}).ServeHTTP(w, httptest.NewRequest("GET", "/api/v1/openapi.json", nil))
	var doc map[string]any
	wantJSON(t, w, &doc)
	return doc, w
}

func TestAPIOpenAPIDocument(t *testing.T) {
	doc, _ := fetchOpenAPI(t)
	if doc["openapi"] != "3.1.0" {
		t.Fatalf("openapi = %v", doc["openapi"])
	}
	if v := doc["info"].(map[string]any)["version"]; v != "1.2.3" {
		t.Errorf("info.version = %v", v)
	}
	comps := doc["components"].(map[string]any)
	bearer, _ := comps["securitySchemes"].(map[string]any)["bearerAuth"].(map[string]any)
	if bearer["type"] != "http" || bearer["scheme"] != "bearer" {
		t.Errorf("bearer scheme = %v", bearer)
	}
	sch := comps["schemas"].(map[string]any)
	for _, name := range []string{"Problem", "Institution", "Department", "Me"} {
		if sch[name] == nil {
			t.Errorf("schema %s missing", name)
		}
	}

	paths := doc["paths"].(map[string]any)
	table := routes()
	inTable := map[string]route{}
	ids := map[string]bool{}
	for _, rt := range table {
		key := rt.Method + " " + rt.Path
		if _, dup := inTable[key]; dup {
			t.Errorf("route %s declared twice", key)
		}
		inTable[key] = rt
		if ids[rt.Op.ID] || rt.Op.ID == "" {
			t.Errorf("operationId %q empty or repeated", rt.Op.ID)
		}
		ids[rt.Op.ID] = true

		item, _ := paths[rt.Path].(map[string]any)
		op, _ := item[strings.ToLower(rt.Method)].(map[string]any)
		if op == nil {
			t.Errorf("route %s is not in the OpenAPI document", key)
			continue
		}
		// Path parameters of the template are declared, and nothing else is.
		var declared, want []string
		for _, p := range asSlice(op["parameters"]) {
			if pm := p.(map[string]any); pm["in"] == "path" {
				declared = append(declared, pm["name"].(string))
				if pm["required"] != true {
					t.Errorf("%s: path parameter %v not required", key, pm["name"])
				}
			}
		}
		for _, m := range pathParamRE.FindAllStringSubmatch(rt.Path, -1) {
			want = append(want, m[1])
		}
		slices.Sort(declared)
		slices.Sort(want)
		if !slices.Equal(declared, want) {
			t.Errorf("%s: path parameters %v, template has %v", key, declared, want)
		}
		// Public routes opt out of the global bearer requirement; others keep it.
		sec, has := op["security"]
		if rt.Public != (has && len(asSlice(sec)) == 0) {
			t.Errorf("%s: public=%t but security=%v", key, rt.Public, sec)
		}
		resp := op["responses"].(map[string]any)
		if resp[strconv.Itoa(rt.Op.successStatus())] == nil || (!rt.Public && resp["401"] == nil) {
			t.Errorf("%s: responses %v", key, resp)
		}
	}
	for path, item := range paths {
		for method := range item.(map[string]any) {
			if _, ok := inTable[strings.ToUpper(method)+" "+path]; !ok {
				t.Errorf("document has %s %s, the route table does not", method, path)
			}
		}
	}

	// Every $ref resolves inside the document.
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if r, ok := v["$ref"].(string); ok {
				if resolve(doc, r) == nil {
					t.Errorf("dangling $ref %s", r)
				}
			}
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(doc)
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

func resolve(doc map[string]any, ref string) any {
	if !strings.HasPrefix(ref, "#/") {
		return nil
	}
	var cur any = doc
	for _, part := range strings.Split(ref[2:], "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[part]
	}
	return cur
}

// Every route of the table is actually served (and not by the 404/405
// fallbacks): an unauthenticated call gets 200 (public) or 401.
func TestAPIRouteTableServed(t *testing.T) {
	h := New(Deps{})
	for _, rt := range routes() {
		path := pathParamRE.ReplaceAllString(rt.Path, "1")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(rt.Method, path, nil))
		want := http.StatusUnauthorized
		if rt.Public {
			want = http.StatusOK
		}
		if w.Code != want {
			t.Errorf("%s %s: status %d, want %d", rt.Method, path, w.Code, want)
		}
	}
}
