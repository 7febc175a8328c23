package app

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"suifang/internal/pdf"
)

// A font the operator names must load: a wrong path or a CFF/collection
// file stops the start. Without a flag, a missing font is a warning and
// the STSong-Light fallback.
func TestLoadPDFFont(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	if _, err := loadPDFFont(filepath.Join(t.TempDir(), "missing.ttf"), log); err == nil {
		t.Error("a missing --pdf-font was accepted")
	}
	ttc := filepath.Join(t.TempDir(), "wqy.ttc")
	os.WriteFile(ttc, []byte("ttcf\x00\x01\x00\x00\x00\x00\x00\x01\x00\x00\x00\x0c"), 0o600)
	if _, err := loadPDFFont(ttc, log); err == nil || !strings.Contains(err.Error(), "collection") {
		t.Errorf("a .ttc: %v", err)
	}
	f, err := loadPDFFont("", log)
	if err != nil {
		t.Fatal(err)
	}
	if (f == nil) != (pdf.FindFont("") == "") {
		t.Errorf("font %v, installed %q", f != nil, pdf.FindFont(""))
	}
	if f == nil && !strings.Contains(logs.String(), "STSong-Light") {
		t.Errorf("no warning: %s", logs.String())
	}
}
