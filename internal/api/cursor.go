package api

import (
	"encoding/base64"
	"strconv"

	"suifang/internal/errs"
)

// Cursors are opaque to clients: the URL-safe, unpadded base64 of the last
// returned id in decimal. Decoding is strict (only the exact string encodeCursor
// makes is accepted) so every id has exactly one cursor.

const maxCursorLen = 32

var errBadCursor = errs.Field("cursor", "bad_cursor", "the cursor is not one this API handed out")

func encodeCursor(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(id, 10)))
}

// decodeCursor returns the id after which the next page starts.
func decodeCursor(s string) (int64, error) {
	if s == "" || len(s) > maxCursorLen {
		return 0, errBadCursor
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil {
		return 0, errBadCursor
	}
	id, err := strconv.ParseInt(string(b), 10, 64)
	// The decoder skips \r and \n; comparing with the canonical encoding
	// also rejects those, leading zeros and signs.
	if err != nil || id <= 0 || encodeCursor(id) != s {
		return 0, errBadCursor
	}
	return id, nil
}
