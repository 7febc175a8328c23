package notify

import (
	"context"

	"suifang/internal/sealed"
)

// sealedOutbox: recipient and body are bound to institution/idempotency
// key.
var sealedOutbox = sealed.Table{Name: "outbox", Key: []string{"institution_id", "idempotency_key"},
	Cols: []sealed.Column{{Name: "recipient_enc", AD: adRecipient}, {Name: "body_enc", AD: adBody}}}

// Reseal binds every message's sealed recipient and body to the message,
// and moves values off a rotated-out data key; idempotent. It returns how
// many messages were re-sealed.
func (s *Service) Reseal(ctx context.Context, batch int) (int, error) {
	return sealed.Reseal(ctx, s.db, s.keys, sealedOutbox, batch)
}
