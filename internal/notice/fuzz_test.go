package notice

import (
	"archive/zip"
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

func zipWith(t testing.TB, names ...string) []byte {
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	for _, n := range names {
		f, err := w.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		f.Write([]byte("<x/>"))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestSniff(t *testing.T) {
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"pdf", []byte("%PDF-1.7\n1 0 obj"), TypePDF},
		{"png", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), TypePNG},
		{"jpeg", []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00"), TypeJPEG},
		{"docx", zipWith(t, "[Content_Types].xml", "word/document.xml"), TypeDOCX},
		{"xlsx", zipWith(t, "[Content_Types].xml", "xl/workbook.xml"), TypeXLSX},
		{"plain zip", zipWith(t, "a.txt"), ""},
		{"zip without content types", zipWith(t, "word/document.xml"), ""},
		{"exe", []byte("MZ\x90\x00\x03"), ""},
		{"html", []byte("<html><script>alert(1)</script>"), ""},
		{"gif", []byte("GIF89a"), ""},
		{"empty", nil, ""},
	} {
		if got := Sniff(c.data); got != c.want {
			t.Errorf("%s: Sniff = %q, want %q", c.name, got, c.want)
		}
	}
}

func TestCleanName(t *testing.T) {
	for in, want := range map[string]string{
		`C:\Users\张\整改报告.PDF`: "整改报告.pdf",
		"../../etc/passwd":    "passwd.pdf",
		"a\"b\x00c.pdf":       "abc.pdf",
		"":                    "evidence.pdf",
		"...":                 "evidence.pdf",
	} {
		if got := cleanName(in, TypePDF); got != want {
			t.Errorf("cleanName(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzSniff: any bytes give an allowed type or "", never a panic, and a
// stored name is clean whatever the browser sent.
func FuzzSniff(f *testing.F) {
	f.Add([]byte("%PDF-1.4"), "a.pdf")
	f.Add([]byte("\x89PNG\r\n\x1a\n"), "../x.png")
	f.Add(zipWith(f, "[Content_Types].xml", "word/document.xml"), `C:\a\b.docx`)
	f.Add(zipWith(f, "[Content_Types].xml", "xl/workbook.xml"), "表.xlsx")
	f.Add([]byte("PK\x03\x04garbage"), "\x00\"")
	f.Fuzz(func(t *testing.T, data []byte, name string) {
		ct := Sniff(data)
		if ct != "" && extFor[ct] == "" {
			t.Fatalf("Sniff gave %q, outside the allow-list", ct)
		}
		if ct == "" {
			ct = TypePDF
		}
		got := cleanName(name, ct)
		if !utf8.ValidString(got) || strings.ContainsAny(got, "/\"\x00\r\n") || !strings.HasSuffix(got, extFor[ct]) ||
			utf8.RuneCountInString(got) > 120+len(extFor[ct]) {
			t.Fatalf("cleanName(%q) = %q", name, got)
		}
	})
}
