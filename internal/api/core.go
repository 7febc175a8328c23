package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"suifang/internal/calendar"
	"suifang/internal/errs"
)

// statusBody makes endpoint answer with a status other than 200, and
// with header's fields (e.g. Location) when set.
type statusBody struct {
	status int
	body   any
	header http.Header
}

func created(v any) statusBody { return statusBody{status: http.StatusCreated, body: v} }

// Request body limits: one message or form, and a bulk upload.
const (
	maxBody     = 64 << 10
	maxBulkBody = 16 << 20
)

var (
	errCoreUnavailable = &httpError{status: http.StatusServiceUnavailable, code: "followup_unavailable",
		detail: "the follow-up services are not available"}
	errNotJSON = &httpError{status: http.StatusUnsupportedMediaType, code: "unsupported_media_type",
		detail: "send the body as JSON (Content-Type: application/json)"}
	errBodyTooLarge = &httpError{status: http.StatusRequestEntityTooLarge, code: "body_too_large",
		detail: "the request body is too large"}
	errMissingBody = errs.New(errs.Invalid, "missing_body", "send a JSON body")
)

// needCore refuses the follow-up routes when the app did not wire the core
// services (tests of the skeleton).
func (s *server) needCore() error {
	if s.d.Followup == nil || s.d.Patients == nil || s.d.Importer == nil || s.d.CalDB == nil || s.d.Org == nil {
		return errCoreUnavailable
	}
	return nil
}

func (s *server) now() time.Time {
	if s.d.Now != nil {
		return s.d.Now()
	}
	return time.Now()
}

// localDay is today's date in the institution's time zone and its
// working-day calendar.
func (s *server) localDay(ctx context.Context, inst int64) (calendar.Date, *calendar.Calendar, error) {
	pol, err := s.d.CalDB.Policy(ctx, inst)
	if err != nil {
		return calendar.Date{}, nil, err
	}
	return calendar.DateOf(s.now().In(pol.Loc)), pol.Cal, nil
}

// readBody returns the JSON request body, at most limit bytes. A missing
// Content-Type is taken as JSON; any other media type is refused.
func readBody(r *http.Request, limit int64) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return nil, errNotJSON
		}
	}
	if r.Body == nil {
		return nil, errMissingBody
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, errs.New(errs.Invalid, "bad_body", "the request body could not be read")
	}
	if int64(len(b)) > limit {
		return nil, errBodyTooLarge
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, errMissingBody
	}
	return b, nil
}

// decodeStrict decodes exactly one JSON value into v; unknown fields, wrong
// types and trailing data are field errors naming the JSON path.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if _, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			// The decoder names the field without its path; find the path.
			if path := unknownPath(b, reflect.TypeOf(v)); path != "" {
				return errs.Field(path, "unknown_field", fmt.Sprintf("unknown field %q", path))
			}
		}
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errs.New(errs.Invalid, "bad_json", "the body holds more than one JSON value")
	}
	return nil
}

// jsonError classifies a decoding failure.
func jsonError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := te.Field
		if field == "" {
			return errs.New(errs.Invalid, "bad_json", fmt.Sprintf("the body must be a JSON %s", jsonKind(te.Type.Kind().String())))
		}
		return errs.Field(field, "bad_type", fmt.Sprintf("%s must be a JSON %s, not %s", field, jsonKind(te.Type.Kind().String()), te.Value))
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name, _ = strconv.Unquote(name)
		return errs.Field(name, "unknown_field", fmt.Sprintf("unknown field %q", name))
	}
	return errs.New(errs.Invalid, "bad_json", "the body is not valid JSON: "+strings.TrimPrefix(err.Error(), "json: "))
}

// unknownPath returns the dotted JSON path of the first object key in b
// (in key order) that type t has no field for, or "".
func unknownPath(b []byte, t reflect.Type) string {
	var v any
	if json.Unmarshal(b, &v) != nil {
		return ""
	}
	var walk func(v any, t reflect.Type, path string) string
	walk = func(v any, t reflect.Type, path string) string {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch x := v.(type) {
		case map[string]any:
			if t.Kind() != reflect.Struct {
				return ""
			}
			for _, k := range slices.Sorted(maps.Keys(x)) {
				p := k
				if path != "" {
					p = path + "." + k
				}
				f, ok := jsonField(t, k)
				if !ok {
					return p
				}
				if u := walk(x[k], f.Type, p); u != "" {
					return u
				}
			}
		case []any:
			if t.Kind() != reflect.Slice && t.Kind() != reflect.Array {
				return ""
			}
			for i, e := range x {
				if u := walk(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); u != "" {
					return u
				}
			}
		}
		return ""
	}
	return walk(v, t, "")
}

// jsonField finds the field of struct t that JSON key k decodes into
// (exact tag match first, then case-insensitive, as encoding/json does).
func jsonField(t reflect.Type, k string) (reflect.StructField, bool) {
	var fold reflect.StructField
	found := false
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if name == k {
			return f, true
		}
		if !found && strings.EqualFold(name, k) {
			fold, found = f, true
		}
	}
	return fold, found
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "slice", "array":
		return "array"
	case "struct", "map":
		return "object"
	case "int", "int64", "int32", "uint", "uint64", "float64":
		return "number"
	}
	return goKind
}

// optDate is a nullable YYYY-MM-DD date.
func optDate(d calendar.Date) *string {
	if d.IsZero() {
		return nil
	}
	s := d.String()
	return &s
}

// optTime is a nullable RFC 3339 time.
func optTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(time.RFC3339)
	return &s
}

// optID is a nullable id (0 means none).
func optID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

// optString is a nullable string ("" means none).
func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// queryInt parses an optional whole-number query parameter within [lo, hi].
func queryInt(q map[string][]string, name string, lo, hi int64, fe *fieldErrors) int64 {
	vs := q[name]
	if len(vs) == 0 || vs[0] == "" {
		return 0
	}
	n, err := strconv.ParseInt(vs[0], 10, 64)
	if err != nil || n < lo || n > hi {
		fe.add(errs.Field(name, "bad_"+name, fmt.Sprintf("%s must be a whole number from %d to %d", name, lo, hi)))
		return 0
	}
	return n
}

// pageParams parses ?limit= and ?cursor= where the cursor encodes an offset.
func pageParams(q map[string][]string, fe *fieldErrors) (limit, offset int) {
	limit = defaultLimit
	if v := first(q, "limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxLimit {
			fe.add(errs.Field("limit", "bad_limit", "limit must be a whole number from 1 to "+strconv.Itoa(maxLimit)))
		}
		limit = n
	}
	if v := first(q, "cursor"); v != "" {
		off, err := decodeCursor(v)
		if err != nil || off > 1<<31 {
			fe.add(errBadCursor)
		}
		offset = int(off)
	}
	return limit, offset
}

func first(q map[string][]string, name string) string {
	if vs := q[name]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}
