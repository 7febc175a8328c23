// Package testkit builds Suifang's services for tests the way the app does:
// through core.Build, on a database the test supplies (storetest.SQLite,
// storetest.Postgres or storetest.Each), with a fake clock and throw-away
// keys. A test that wires services by hand drifts from production the day a
// hook is added; one built here gets the new hook too.
package testkit

import (
	"bytes"
	"context"
	"encoding/base64"
	"testing"
	"time"

	"suifang/internal/access"
	"suifang/internal/auth"
	"suifang/internal/clock"
	"suifang/internal/core"
	"suifang/internal/followup"
	"suifang/internal/org"
	"suifang/internal/pii"
	"suifang/internal/store"
)

// DefaultStart is Wednesday 2026-09-30 10:00 in Beijing, the eve of the
// National Day holiday: working-day arithmetic has something to do.
var DefaultStart = time.Date(2026, 9, 30, 2, 0, 0, 0, time.UTC)

// Env is a wired set of services on one database.
type Env struct {
	*core.Services
	DB    *store.DB
	Clock *clock.Fake
	Keys  *pii.Keyring
	Index *pii.Indexer
}

// Options change what New builds; the zero value is the common case.
type Options struct {
	Start time.Time // the fake clock's start; zero: DefaultStart
	// Configure edits the core options before Build (a policy, an outbox
	// spy, a dialer).
	Configure func(*core.Options)
}

// New builds the services on db. Passwords are hashed with a cheap argon2id
// setting (1 MiB, one pass) so that tests creating users stay fast; tests of
// the hashing itself set Auth.Hash through Configure.
func New(t testing.TB, db *store.DB, o Options) *Env {
	t.Helper()
	if o.Start.IsZero() {
		o.Start = DefaultStart
	}
	e := &Env{DB: db, Clock: clock.NewFake(o.Start)}
	var err error
	if e.Keys, err = pii.ParseKeyring("t1:" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))); err != nil {
		t.Fatal(err)
	}
	if e.Index, err = pii.NewIndexer(bytes.Repeat([]byte{9}, 32)); err != nil {
		t.Fatal(err)
	}
	pol := auth.DefaultPolicy()
	pol.Hash = auth.HashParams{Memory: 1024, Time: 1, Threads: 1}
	co := core.Options{Now: e.Clock.Now, Auth: pol, Followup: followup.DefaultPolicy(), Keys: e.Keys, Index: e.Index}
	if o.Configure != nil {
		o.Configure(&co)
	}
	if e.Services, err = core.Build(db, co); err != nil {
		t.Fatal(err)
	}
	return e
}

// Must returns id, failing the test on err: for the (id, error) pairs that
// creating institutions, departments and users return.
func Must(t testing.TB) func(id int64, err error) int64 {
	return func(id int64, err error) int64 {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
}

// Institution creates a hospital with the given code and name.
func (e *Env) Institution(t testing.TB, code, name string) int64 {
	t.Helper()
	return Must(t)(e.Org.CreateInstitution(context.Background(), access.System(),
		org.InstitutionInput{Code: code, Name: name, Kind: org.KindHospital}))
}

// Department creates a department of kind org.DeptClinical, DeptWard or
// DeptOffice (clinical when kind is empty).
func (e *Env) Department(t testing.TB, inst int64, code, name string, kind string) int64 {
	t.Helper()
	if kind == "" {
		kind = org.DeptClinical
	}
	return Must(t)(e.Org.CreateDepartment(context.Background(), access.System(),
		org.DepartmentInput{InstitutionID: inst, Code: code, Name: name, Kind: kind}))
}

// User creates an active staff account.
func (e *Env) User(t testing.TB, in auth.UserInput) int64 {
	t.Helper()
	in.Active = true
	return Must(t)(e.Auth.CreateUser(context.Background(), access.System(), in))
}
