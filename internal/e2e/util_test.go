package e2e

import (
	"strconv"

	"suifang/internal/access"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func systemPrincipal() *access.Principal { return access.System() }
