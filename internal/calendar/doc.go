// Package calendar is the Chinese working-day calendar used for service
// deadlines (办理时限).
//
// Rules:
//
//   - A day is a working day Monday–Friday and a rest day Saturday–Sunday,
//     unless the year's official notice lists it as an exception: a holiday
//     (OffDay, rest even on a weekday) or an adjusted working day (调休,
//     work even on a weekend).
//   - A year without data falls back to plain Monday–Friday; HasYear tells
//     callers when that happens so they can warn.
//   - Day counting starts the day after the start date: "within 3 working
//     days" of 2026-09-30 means the 3rd working day after it (2026-10-10).
//   - A deadline that lands on a rest day moves to the next working day
//     (节假日顺延), see NextWorkingDay.
//
// Hour budgets are counted only inside ServiceHours on working days, in the
// Policy's location. Clock keeps an SLA clock as stored intervals (start and
// pauses) so deadlines can be recomputed when the policy changes.
//
// The package is pure: it never reads the wall clock and does no I/O apart
// from its embedded seed data.
package calendar
