// Package errs is Suifang's one error vocabulary. Services return these kinds;
// the web, API and CLI adapters map them to a status, page or exit code in one
// place each, so a rule never decides its own HTTP status.
package errs

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Kind classifies an error for the adapters.
type Kind int

const (
	Internal Kind = iota
	Invalid
	NotFound
	Conflict
	Forbidden
	Unauthenticated
	// TooMany refuses work the caller may retry later (a throttle or a
	// full queue); RetryAfter on the Error says when.
	TooMany
)

func (k Kind) String() string {
	switch k {
	case Invalid:
		return "invalid"
	case NotFound:
		return "not_found"
	case Conflict:
		return "conflict"
	case Forbidden:
		return "forbidden"
	case Unauthenticated:
		return "unauthenticated"
	case TooMany:
		return "too_many"
	default:
		return "internal"
	}
}

// Error is a classified error. Code is a stable machine-readable reason
// (e.g. "account_locked"); Msg is safe to show to a user; Fields names the form
// fields at fault so a form can mark them.
type Error struct {
	Kind   Kind
	Code   string
	Msg    string
	Fields map[string]string
	Err    error
	// RetryAfter is how long a TooMany caller should wait (Retry-After).
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %v", e.Msg, e.Err)
	}
	return e.Msg
}

func (e *Error) Unwrap() error { return e.Err }

// New builds a classified error with a stable code and a user-safe message.
func New(kind Kind, code, msg string) *Error {
	return &Error{Kind: kind, Code: code, Msg: msg}
}

// Field builds an Invalid error for one form field.
func Field(field, code, msg string) *Error {
	return &Error{Kind: Invalid, Code: code, Msg: msg, Fields: map[string]string{field: code}}
}

// Throttled builds a TooMany error asking the caller to retry after d.
func Throttled(code, msg string, d time.Duration) *Error {
	return &Error{Kind: TooMany, Code: code, Msg: msg, RetryAfter: d}
}

// RetryAfterSeconds formats d for a Retry-After header: whole seconds,
// rounded up and at least 1, so a client never retries too early.
func RetryAfterSeconds(d time.Duration) string {
	n := int64((d + time.Second - 1) / time.Second)
	return strconv.FormatInt(max(n, 1), 10)
}

// KindOf reports the kind of err; unclassified errors are Internal.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// CodeOf reports the stable code of err, or the kind's name.
func CodeOf(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Code != "" {
		return e.Code
	}
	return KindOf(err).String()
}

// Is reports whether err is of kind k.
func Is(err error, k Kind) bool { return err != nil && KindOf(err) == k }

// As returns the classified error inside err, if any.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

var (
	ErrNotFound  = New(NotFound, "not_found", "not found")
	ErrForbidden = New(Forbidden, "forbidden", "forbidden")
)
