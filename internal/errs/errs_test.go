package errs

import (
	"errors"
	"fmt"
	"testing"
)

func TestKindAndCodeSurviveWrapping(t *testing.T) {
	base := Field("password", "password_too_short", "too short")
	wrapped := fmt.Errorf("auth: create: %w", base)
	if KindOf(wrapped) != Invalid || CodeOf(wrapped) != "password_too_short" {
		t.Fatalf("wrapped: kind %v code %q", KindOf(wrapped), CodeOf(wrapped))
	}
	e, ok := As(wrapped)
	if !ok || e.Fields["password"] != "password_too_short" {
		t.Fatalf("As: %v %v", e, ok)
	}
	plain := errors.New("disk on fire")
	if KindOf(plain) != Internal || CodeOf(plain) != "internal" || Is(plain, NotFound) {
		t.Fatalf("plain error classified as %v/%q", KindOf(plain), CodeOf(plain))
	}
	if Is(nil, Internal) {
		t.Fatal("nil is not an error of any kind")
	}
	inner := &Error{Kind: Conflict, Msg: "clash", Err: plain}
	if !errors.Is(inner, plain) || inner.Error() != "clash: disk on fire" {
		t.Fatalf("Unwrap/Error: %q", inner.Error())
	}
	if CodeOf(New(Forbidden, "", "no")) != "forbidden" {
		t.Fatal("an empty code falls back to the kind's name")
	}
}
