package patient

import (
	"context"

	"suifang/internal/pii"
	"suifang/internal/sealed"
)

// sealedPatients are the patient columns bound to the row key RowKey
// builds (institution/MRN).
var sealedPatients = sealed.Table{Name: "patients", Key: []string{"institution_id", "mrn"},
	Cols: []sealed.Column{{Name: "national_id_enc", AD: adNationalID}, {Name: "phones_enc", AD: adPhones}, {Name: "address_enc", AD: adAddress}}}

// Reseal binds every patient's sealed values to the patient's row (and
// moves values sealed with an old key to the current one), batch rows per
// transaction; idempotent. It returns how many patients were re-sealed.
func (s *Service) Reseal(ctx context.Context, batch int) (int, error) {
	return sealed.Reseal(ctx, s.db, s.keys, sealedPatients, batch)
}

// VerifySealed opens every patient's sealed values with the patient's row
// key: a value copied from another patient fails to authenticate, and one
// not yet bound to its row is named too.
func (s *Service) VerifySealed(ctx context.Context) (int, []pii.Problem, error) {
	return sealed.Verify(ctx, s.db.R(), s.keys, sealedPatients)
}
