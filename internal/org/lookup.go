package org

import "context"

// Lookup returns an institution without a scope check, for other services
// that need its time zone or service hours after checking scope themselves.
func (s *Service) Lookup(ctx context.Context, id int64) (*Institution, error) {
	return s.institution(ctx, s.db.R(), id)
}
