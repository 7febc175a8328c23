package complaint

import (
	"context"

	"suifang/internal/pii"
	"suifang/internal/sealed"
)

// sealedComplaints: the contact is bound to the complaint number.
var sealedComplaints = sealed.Table{Name: "complaints", Key: []string{"number"},
	Cols: []sealed.Column{{Name: "complainant_contact", AD: adContact}}}

// Reseal binds every complaint's sealed contact to the complaint's number
// (and moves contacts sealed with an old key to the current one);
// idempotent. It returns how many were re-sealed.
func (s *Service) Reseal(ctx context.Context, batch int) (int, error) {
	return sealed.Reseal(ctx, s.db, s.keys, sealedComplaints, batch)
}

// VerifySealed opens every complaint's contact with the complaint's
// number; a contact copied from another complaint fails.
func (s *Service) VerifySealed(ctx context.Context) (int, []pii.Problem, error) {
	return sealed.Verify(ctx, s.db.R(), s.keys, sealedComplaints)
}
