package org

import (
	"context"

	"suifang/internal/store"
)

// Lookup returns an institution without a scope check, for other services
// that need its time zone or service hours after checking scope themselves.
func (s *Service) Lookup(ctx context.Context, id int64) (*Institution, error) {
	return s.institution(ctx, s.db.R(), id)
}

// LookupIn is Lookup inside the caller's transaction, for a hook that must
// see the institution as that transaction changed it.
func (s *Service) LookupIn(ctx context.Context, q store.Querier, id int64) (*Institution, error) {
	return s.institution(ctx, q, id)
}
