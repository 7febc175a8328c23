// Package chain verifies the per-institution SHA-256 hash chains that
// follow-up records, notice events and complaint events keep: each row
// carries the previous row's hash and the hash of its own contents. The
// rooms compute their rows' hashes; walking the chain and naming the first
// broken row is the same everywhere, so it lives here once.
package chain

// Link is one stored row as the verifier sees it.
type Link struct {
	InstitutionID int64
	ID            int64
	Ref           string // the row's human name (a record number), if it has one
	PrevHash      string // as stored
	Hash          string // as stored
	Computed      string // the hash of the row's contents, recomputed now
}

// Result is the verification of one institution's chain.
type Result struct {
	InstitutionID int64
	Checked       int
	OK            bool
	BrokenID      int64  // row id of the first broken row
	BrokenRef     string // its Ref
	Reason        string
}

// Walker checks links fed in (institution, id) order.
type Walker struct {
	genesis string
	noun    string
	out     []Result
	prev    string
}

// NewWalker starts a verification; genesis is the prev_hash of each
// institution's first row, noun names a row in the reasons ("record").
func NewWalker(genesis, noun string) *Walker { return &Walker{genesis: genesis, noun: noun} }

// Add checks the next link. After the first broken link of an institution
// the rest of its chain is not judged: one break explains what follows.
func (w *Walker) Add(l Link) {
	if len(w.out) == 0 || w.out[len(w.out)-1].InstitutionID != l.InstitutionID {
		w.out = append(w.out, Result{InstitutionID: l.InstitutionID, OK: true})
		w.prev = w.genesis
	}
	cur := &w.out[len(w.out)-1]
	if !cur.OK {
		return
	}
	cur.Checked++
	switch {
	case l.PrevHash != w.prev:
		cur.OK, cur.Reason = false, "prev_hash does not match the previous "+w.noun+" (a "+w.noun+" was removed or inserted)"
	case l.Computed != l.Hash:
		cur.OK, cur.Reason = false, "hash does not match the "+w.noun+"'s contents (the "+w.noun+" was altered)"
	}
	if !cur.OK {
		cur.BrokenID, cur.BrokenRef = l.ID, l.Ref
	}
	w.prev = l.Hash
}

// Results are the institutions' verdicts, in the order they were fed.
func (w *Walker) Results() []Result { return w.out }
