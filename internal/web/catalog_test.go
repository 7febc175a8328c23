package web

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"suifang/internal/access"
	"suifang/internal/notify"
)

var (
	// {{t .Lang "key"}} and {{t $.Lang "key" …}} in templates.
	templateKeyRE = regexp.MustCompile(`\bt\s+\$?\.Lang\s+"([^"]+)"`)
	// s.cat.T(q.Lang, "key", …) in handlers.
	goKeyRE = regexp.MustCompile(`\.T\([^,()]+,\s*"([^"]+)"\s*[,)]`)
	// s.redirect(w, r, to, "flashkey") carries flash.<key>.
	flashRE = regexp.MustCompile(`\.redirect\([^()]*(?:\([^()]*\)[^()]*)*,\s*"([a-z_]+)"\)`)
	// Error codes the web package raises itself; each needs err.<code>.
	errCodeRE = regexp.MustCompile(`errs\.(?:Field\("[^"]*",\s*|New\(errs\.[A-Za-z]+,\s*)"([a-z_]+)"`)
	verbRE    = regexp.MustCompile(`%[-+# 0-9.]*[a-zA-Z%]`)
)

// TestCatalogsComplete checks that every message key the UI uses exists in
// both languages, and that the two catalogs have the same keys with the same
// formatting verbs.
func TestCatalogsComplete(t *testing.T) {
	cat, err := loadCatalogs()
	if err != nil {
		t.Fatal(err)
	}
	zh, en := cat.byLang["zh-CN"], cat.byLang["en"]
	for k, v := range zh {
		ev, ok := en[k]
		if !ok {
			t.Errorf("key %q is in zh-CN but not in en", k)
			continue
		}
		if a, b := verbs(v), verbs(ev); a != b {
			t.Errorf("key %q: zh-CN verbs %q, en verbs %q", k, a, b)
		}
	}
	for k := range en {
		if _, ok := zh[k]; !ok {
			t.Errorf("key %q is in en but not in zh-CN", k)
		}
	}

	used := map[string]string{} // key → where
	err = fs.WalkDir(assets, "templates", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".html") {
			return err
		}
		b, err := assets.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range templateKeyRE.FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = path
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(used) == 0 {
		t.Fatal("found no message keys in the templates")
	}
	goFiles, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range goFiles {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		src := string(b)
		for _, m := range goKeyRE.FindAllStringSubmatch(src, -1) {
			used[m[1]] = f
		}
		for _, m := range flashRE.FindAllStringSubmatch(src, -1) {
			used["flash."+m[1]] = f
		}
		for _, m := range errCodeRE.FindAllStringSubmatch(src, -1) {
			if m[1] != "internal" {
				used["err."+m[1]] = f
			}
		}
	}
	for _, r := range access.Roles() {
		used["role."+string(r)] = "access.Roles"
	}
	// Keys built at run time by the admin pages.
	for i := range 7 {
		used["cal.wd."+strconv.Itoa(i)] = "admin_calendar.go"
		used["cal.weekday."+strconv.Itoa(i)] = "admin_calendar.go"
	}
	for i := 1; i <= 12; i++ {
		used["cal.month."+strconv.Itoa(i)] = "admin_calendar.go"
	}
	// Codes the services return into the admin forms, and recoded ones.
	for _, code := range []string{"bad_username", "bad_display_name", "no_role", "bad_role", "bad_department",
		"username_taken", "self_lockout", "user_not_found", "token_not_found", "bad_institution", "day_not_found",
		"bad_calendar", "audit_forbidden", "bad_day_name", "bad_token_name", "out_of_scope", "admin_only",
		"password_too_short", "password_too_simple", "password_contains_username"} {
		used["err."+code] = "services"
	}
	keys := make([]string, 0, len(used))
	for k := range used {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, lang := range []string{"zh-CN", "en"} {
			if !cat.Has(lang, k) {
				t.Errorf("%s uses key %q, missing in %s", used[k], k, lang)
			}
		}
	}
}

func verbs(s string) string {
	return strings.Join(verbRE.FindAllString(s, -1), " ")
}

// TestEveryTemplateHasAName: the template list names each built-in
// message kind in both languages (the verification code once showed its
// raw key).
func TestEveryTemplateHasAName(t *testing.T) {
	cat, err := loadCatalogs()
	if err != nil {
		t.Fatal(err)
	}
	for _, tp := range notify.Defaults() {
		for _, lang := range []string{"zh-CN", "en"} {
			if _, ok := cat.byLang[lang]["tpl.key."+tp.Key]; !ok {
				t.Errorf("%s: no name for template %s", lang, tp.Key)
			}
		}
	}
}
