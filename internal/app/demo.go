package app

import (
	"context"
	"time"

	"suifang/internal/demo"
)

// DemoPassword is the password of every demo account.
const DemoPassword = demo.Password

// DemoLogin is one account the demo creates, for the start-up banner.
type DemoLogin = demo.Login

// SeedDemo creates the demo hospital group (internal/demo) on this app's
// services unless it exists already.
func (a *App) SeedDemo(ctx context.Context) ([]DemoLogin, error) {
	now := a.Cfg.Now
	if now == nil {
		now = time.Now
	}
	env := &demo.Env{Services: a.services, DB: a.DB, CoreOptions: a.coreOpts, Now: now,
		HistoryDays: a.Cfg.DemoHistoryDays, Log: a.Log}
	return env.Seed(ctx)
}
