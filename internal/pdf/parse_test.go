package pdf

import (
	"bytes"
	"compress/zlib"
	"encoding/hex"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"testing"
	"unicode/utf16"
)

// parsed is what the tests read back from a file, by their own small
// parser: objects found through the cross-reference table only.
type parsed struct {
	objs  map[int][]byte // object number → body between "obj" and "endobj"
	root  int
	info  int
	pages []int      // page objects in Kids order
	texts [][]string // per page, the strings of its Tj operators in order
}

var (
	reStartXref = regexp.MustCompile(`startxref\n(\d+)\n%%EOF\n$`)
	reRef       = regexp.MustCompile(`(\d+) 0 R\b`)
	reTrailer   = regexp.MustCompile(`(?s)trailer\n<< /Size (\d+) /Root (\d+) 0 R /Info (\d+) 0 R /ID \[<([0-9A-F]{32})> <([0-9A-F]{32})>\] >>`)
	reLength    = regexp.MustCompile(`^<< /Length (\d+)( /Filter /FlateDecode)? >>\nstream\n`)
	reKids      = regexp.MustCompile(`/Kids \[([^\]]*)\] /Count (\d+)`)
	reContents  = regexp.MustCompile(`/Contents (\d+) 0 R`)
	reBT        = regexp.MustCompile(`BT (.*?) ET`)
	reShow      = regexp.MustCompile(`\[((?:<[0-9A-F]*> ?)*)\] TJ|/Span << /ActualText <FEFF([0-9A-F]*)> >> BDC <[0-9A-F]*> Tj EMC`)
	reHex       = regexp.MustCompile(`<([0-9A-F]*)>`)
)

func parsePDF(t testing.TB, data []byte) *parsed {
	t.Helper()
	if !bytes.HasPrefix(data, []byte("%PDF-1.5\n")) {
		t.Fatalf("no PDF header: %q", data[:min(len(data), 16)])
	}
	m := reStartXref.FindSubmatch(data)
	if m == nil {
		t.Fatal("no startxref at the end")
	}
	xref, _ := strconv.Atoi(string(m[1]))
	if xref >= len(data) || !bytes.HasPrefix(data[xref:], []byte("xref\n0 ")) {
		t.Fatalf("startxref %d does not point at the xref table", xref)
	}
	rest := data[xref+len("xref\n0 "):]
	nl := bytes.IndexByte(rest, '\n')
	size, err := strconv.Atoi(string(rest[:nl]))
	if err != nil {
		t.Fatalf("xref subsection: %v", err)
	}
	entries := rest[nl+1:]
	if len(entries) < 20*size {
		t.Fatal("xref table cut short")
	}
	p := &parsed{objs: map[int][]byte{}}
	if string(entries[:20]) != "0000000000 65535 f \n" {
		t.Fatalf("entry 0 is %q", entries[:20])
	}
	for i := 1; i < size; i++ {
		e := string(entries[20*i : 20*i+20])
		var off, gen int
		var kind string
		if _, err := fmt.Sscanf(e, "%010d %05d %1s", &off, &gen, &kind); err != nil || kind != "n" || e[18:] != " \n" {
			t.Fatalf("xref entry %d is %q", i, e)
		}
		head := fmt.Sprintf("%d 0 obj\n", i)
		if off >= len(data) || !bytes.HasPrefix(data[off:], []byte(head)) {
			t.Fatalf("xref offset %d of object %d points at %q", off, i, data[off:min(len(data), off+12)])
		}
		body := data[off+len(head):]
		end := bytes.Index(body, []byte("\nendobj\n"))
		if end < 0 {
			t.Fatalf("object %d has no endobj", i)
		}
		p.objs[i] = body[:end]
	}
	tm := reTrailer.FindSubmatch(entries[20*size:])
	if tm == nil {
		t.Fatalf("trailer not understood: %q", entries[20*size:])
	}
	if n, _ := strconv.Atoi(string(tm[1])); n != size {
		t.Fatalf("trailer /Size %d, xref has %d entries", n, size)
	}
	p.root, _ = strconv.Atoi(string(tm[2]))
	p.info, _ = strconv.Atoi(string(tm[3]))
	// Every reference, in the trailer and in every dictionary, names an
	// object that exists.
	refs := append([][][]byte{}, reRef.FindAllSubmatch(entries[20*size:], -1)...)
	for _, body := range p.objs {
		dict := body
		if i := bytes.Index(body, []byte("stream\n")); i >= 0 {
			dict = body[:i] // stream data is not PDF syntax
		}
		refs = append(refs, reRef.FindAllSubmatch(dict, -1)...)
	}
	for _, r := range refs {
		n, _ := strconv.Atoi(string(r[1]))
		if _, ok := p.objs[n]; !ok {
			t.Fatalf("reference %s 0 R names no object", r[1])
		}
	}
	if !bytes.HasPrefix(p.objs[p.root], []byte("<< /Type /Catalog /Pages ")) {
		t.Fatalf("root is not a catalog: %q", p.objs[p.root])
	}
	pagesRef := reRef.FindSubmatch(p.objs[p.root])
	pn, _ := strconv.Atoi(string(pagesRef[1]))
	km := reKids.FindSubmatch(p.objs[pn])
	if km == nil {
		t.Fatalf("page tree: %q", p.objs[pn])
	}
	kids := reRef.FindAllSubmatch(km[1], -1)
	if c, _ := strconv.Atoi(string(km[2])); c != len(kids) {
		t.Fatalf("/Count %d but %d kids", c, len(kids))
	}
	for _, k := range kids {
		n, _ := strconv.Atoi(string(k[1]))
		pg := p.objs[n]
		if !bytes.HasPrefix(pg, []byte("<< /Type /Page /Parent "+strconv.Itoa(pn)+" 0 R")) {
			t.Fatalf("kid %d is not a page of the tree: %q", n, pg)
		}
		p.pages = append(p.pages, n)
		cm := reContents.FindSubmatch(pg)
		cn, _ := strconv.Atoi(string(cm[1]))
		content := streamData(t, p.objs[cn])
		var strs []string
		for _, bt := range reBT.FindAllSubmatch(content, -1) {
			// One text object is one line: TJ runs, and stand-ins whose
			// ActualText is the real character.
			var line string
			for _, op := range reShow.FindAllSubmatch(bt[1], -1) {
				if op[2] != nil {
					line += decodeUTF16Hex(t, string(op[2]))
					continue
				}
				for _, h := range reHex.FindAllSubmatch(op[1], -1) {
					line += decodeUTF16Hex(t, string(h[1]))
				}
			}
			strs = append(strs, line)
		}
		p.texts = append(p.texts, strs)
	}
	return p
}

// streamData checks a stream's /Length against its bytes and inflates it.
func streamData(t testing.TB, body []byte) []byte {
	t.Helper()
	m := reLength.FindSubmatch(body)
	if m == nil {
		t.Fatalf("not a stream: %q", body[:min(len(body), 40)])
	}
	n, _ := strconv.Atoi(string(m[1]))
	data := body[len(m[0]):]
	if len(data) != n+len("\nendstream") || string(data[n:]) != "\nendstream" {
		t.Fatalf("/Length %d does not end at endstream (%d bytes follow)", n, len(data))
	}
	data = data[:n]
	if len(m[2]) == 0 {
		return data
	}
	z, err := zlib.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("inflate: %v", err)
	}
	out, err := io.ReadAll(z)
	if err != nil {
		t.Fatalf("inflate: %v", err)
	}
	return out
}

func decodeUTF16Hex(t testing.TB, h string) string {
	t.Helper()
	b, err := hex.DecodeString(h)
	if err != nil || len(b)%2 != 0 {
		t.Fatalf("bad hex string %q", h)
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
	}
	return string(utf16.Decode(u))
}
