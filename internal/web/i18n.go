package web

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"strings"

	"golang.org/x/text/language"
)

//go:embed i18n
var catalogFS embed.FS

// Languages in preference order: zh-CN first, English second.
var supported = []language.Tag{language.MustParse("zh-CN"), language.English}

// catalog maps a message key to its text in one language.
type catalog map[string]string

// catalogs holds every language's messages, keyed by "zh-CN" / "en".
type catalogs struct {
	byLang  map[string]catalog
	matcher language.Matcher
}

func loadCatalogs() (*catalogs, error) {
	c := &catalogs{byLang: map[string]catalog{}, matcher: language.NewMatcher(supported)}
	// Each language is a folder of JSON files, one per area of the UI, so
	// rooms add their messages without editing one shared file.
	for _, lang := range []string{"zh-CN", "en"} {
		files, err := fs.Glob(catalogFS, "i18n/"+lang+"/*.json")
		if err != nil || len(files) == 0 {
			return nil, fmt.Errorf("web: no catalog files for %s", lang)
		}
		all := catalog{}
		for _, f := range files {
			b, err := catalogFS.ReadFile(f)
			if err != nil {
				return nil, fmt.Errorf("web: read catalog %s: %w", f, err)
			}
			var m catalog
			if err := json.Unmarshal(b, &m); err != nil {
				return nil, fmt.Errorf("web: parse catalog %s: %w", f, err)
			}
			for k, v := range m {
				if _, dup := all[k]; dup {
					return nil, fmt.Errorf("web: catalog %s: key %q defined twice", f, k)
				}
				all[k] = v
			}
		}
		c.byLang[lang] = all
	}
	return c, nil
}

// pick chooses the language for r: the lang cookie, then Accept-Language,
// then zh-CN.
func (c *catalogs) pick(r *http.Request) string {
	if ck, err := r.Cookie("lang"); err == nil {
		if _, ok := c.byLang[ck.Value]; ok {
			return ck.Value
		}
	}
	tags, _, _ := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	if len(tags) == 0 {
		return "zh-CN"
	}
	_, idx, conf := c.matcher.Match(tags...)
	if conf == language.No || idx == 0 {
		return "zh-CN"
	}
	return "en"
}

// T translates key; args fill %s/%d verbs. A missing key shows itself, in
// brackets, so it is seen in screenshots and caught by the catalog test.
func (c *catalogs) T(lang, key string, args ...any) string {
	s, ok := c.byLang[lang][key]
	if !ok {
		s, ok = c.byLang["zh-CN"][key]
	}
	if !ok {
		return "[" + key + "]"
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// Has reports whether key exists in lang.
func (c *catalogs) Has(lang, key string) bool {
	_, ok := c.byLang[lang][key]
	return ok
}

// errText is the user-facing text for an error code: the catalog's
// "err.<code>" entry, else the service's own message.
func (c *catalogs) errText(lang, code, fallback string) string {
	if s, ok := c.byLang[lang]["err."+code]; ok {
		return s
	}
	if fallback != "" {
		return fallback
	}
	return c.T(lang, "err.internal")
}

// normLang returns a supported language code or "".
func normLang(s string) string {
	switch strings.ToLower(s) {
	case "zh-cn", "zh":
		return "zh-CN"
	case "en":
		return "en"
	}
	return ""
}
