package calendar

import (
	"testing"
	"time"
)

func benchAdd(b *testing.B, n int) {
	c := seedCal()
	d := Date{2026, 9, 30}
	b.ReportAllocs()
	for b.Loop() {
		if c.AddWorkingDays(d, n).IsZero() {
			b.Fatal("zero")
		}
	}
}

func BenchmarkAddWorkingDays(b *testing.B) {
	b.Run("n=3", func(b *testing.B) { benchAdd(b, 3) })
	b.Run("n=250", func(b *testing.B) { benchAdd(b, 250) })
}

func BenchmarkIsWorkingDay(b *testing.B) {
	c := seedCal()
	d := Date{2026, 10, 10}
	b.ReportAllocs()
	for b.Loop() {
		if !c.IsWorkingDay(d) {
			b.Fatal("not working")
		}
	}
}

func BenchmarkAddWorkingDuration(b *testing.B) {
	p := shanghaiPolicy(b)
	t0 := time.Date(2026, 9, 30, 17, 0, 0, 0, p.Loc)
	for _, d := range []time.Duration{time.Hour, 200 * time.Hour} {
		b.Run(d.String(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if p.AddWorkingDuration(t0, d).IsZero() {
					b.Fatal("zero")
				}
			}
		})
	}
}

func BenchmarkWorkingDuration(b *testing.B) {
	p := shanghaiPolicy(b)
	from := time.Date(2026, 1, 5, 10, 0, 0, 0, p.Loc)
	to := time.Date(2026, 12, 20, 15, 0, 0, 0, p.Loc)
	b.ReportAllocs()
	for b.Loop() {
		if p.WorkingDuration(from, to) == 0 {
			b.Fatal("zero")
		}
	}
}
