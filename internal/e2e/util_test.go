package e2e

import (
	"strconv"
	"strings"

	"suifang/internal/calendar"

	"suifang/internal/access"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func systemPrincipal() *access.Principal { return access.System() }

func containsAll(s string, subs ...string) bool {
	for _, x := range subs {
		if !strings.Contains(s, x) {
			return false
		}
	}
	return true
}

func mustDate(s string) calendar.Date {
	d, err := calendar.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}
