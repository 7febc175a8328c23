package chain

import "testing"

func TestWalker(t *testing.T) {
	w := NewWalker("g", "record")
	// Institution 1: intact. Institution 2: the second row altered, the
	// third then not judged. Institution 3: a row removed.
	for _, l := range []Link{
		{InstitutionID: 1, ID: 1, PrevHash: "g", Hash: "a", Computed: "a"},
		{InstitutionID: 1, ID: 2, PrevHash: "a", Hash: "b", Computed: "b"},
		{InstitutionID: 2, ID: 3, PrevHash: "g", Hash: "c", Computed: "c"},
		{InstitutionID: 2, ID: 4, Ref: "SF-2", PrevHash: "c", Hash: "d", Computed: "x"},
		{InstitutionID: 2, ID: 5, PrevHash: "zzz", Hash: "e", Computed: "e"},
		{InstitutionID: 3, ID: 6, PrevHash: "g", Hash: "f", Computed: "f"},
		{InstitutionID: 3, ID: 8, PrevHash: "missing", Hash: "h", Computed: "h"},
	} {
		w.Add(l)
	}
	got := w.Results()
	if len(got) != 3 {
		t.Fatalf("%d results, want 3", len(got))
	}
	if r := got[0]; !r.OK || r.Checked != 2 {
		t.Errorf("institution 1: %+v", r)
	}
	if r := got[1]; r.OK || r.BrokenID != 4 || r.BrokenRef != "SF-2" || r.Checked != 2 ||
		r.Reason != "hash does not match the record's contents (the record was altered)" {
		t.Errorf("institution 2: %+v", r)
	}
	if r := got[2]; r.OK || r.BrokenID != 8 || r.Reason != "prev_hash does not match the previous record (a record was removed or inserted)" {
		t.Errorf("institution 3: %+v", r)
	}
}
