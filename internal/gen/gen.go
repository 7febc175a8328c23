// Package gen makes realistic synthetic discharges for demos, load tests
// and benchmarks: Chinese names, valid GB 11643 ID numbers, mobile phones,
// addresses, departments with matching ICD-10 diagnoses, operations, stays,
// outcomes, doctors and nurses. The same Config (seed included) always
// gives the same discharges, byte for byte. Generation streams: one
// message at a time, so a million rows take no more memory than ten.
package gen

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"suifang/internal/calendar"
	"suifang/internal/intake"
	"suifang/internal/pii"
)

// Department is a discharging department the generator uses.
type Department struct {
	// Institution is the code of the institution the department belongs
	// to; "" serves every institution without departments of its own.
	Institution        string
	Code, Name         string
	WardCode, WardName string // optional
	Specialty          Specialty
	// Weight is the department's relative share of its institution's
	// discharges (values below 1 count as 1).
	Weight int
}

// Config says what to generate.
type Config struct {
	Seed  uint64
	Count int
	// Discharge times fall in [Start, End), spread evenly over the days
	// (China time) from Start's date to End's, in daytime hours where the
	// range allows. Rows come in discharge-date order.
	Start, End time.Time
	// Institutions are the codes written as the facility of each row,
	// taken in smooth weighted round-robin by Weights (all 1 when empty).
	// No institutions: the rows name none (the importer then uses the
	// database's only institution).
	Institutions []string
	Weights      []int
	// Departments to discharge from; nil means DefaultDepartments. An
	// institution without departments of its own (and none with an empty
	// Institution) uses the departments of H01 from the defaults.
	Departments []Department
}

// cst is China Standard Time; generated times are written without a zone.
var cst = time.FixedZone("CST", 8*3600)

// Generate calls fn with Count discharge messages in order. It stops at
// the first error fn returns and returns it.
func Generate(cfg Config, fn func(intake.Message) error) error {
	g, err := newGenerator(cfg)
	if err != nil {
		return err
	}
	for i := 0; i < cfg.Count; i++ {
		var r row
		g.row(i, &r)
		if err := fn(r.msg); err != nil {
			return err
		}
	}
	return nil
}

// row is one generated discharge with what the Message cannot carry.
type row struct {
	msg         intake.Message
	surgeryName string
}

type generator struct {
	cfg   Config
	r     *rand.Rand
	insts []*instGen
	cur   []int // smooth weighted round-robin state
	total int
	tag   string
	day0  time.Time // midnight (China time) of the first day
	days  int
	// surnames drawn by cumulative weight
	surCum []int
}

type instGen struct {
	code   string
	weight int
	depts  []*deptGen
	cum    []int
}

type deptGen struct {
	Department
	diags   []*diagnosis
	cum     []int
	doctors []string
	nurses  []string
}

func newGenerator(cfg Config) (*generator, error) {
	if cfg.Count < 0 {
		return nil, errors.New("gen: count must not be negative")
	}
	if cfg.Start.IsZero() || cfg.End.IsZero() || !cfg.End.After(cfg.Start) {
		return nil, errors.New("gen: the discharge range needs a start before its end")
	}
	insts := cfg.Institutions
	if len(insts) == 0 {
		insts = []string{""}
	}
	if len(cfg.Weights) != 0 && len(cfg.Weights) != len(insts) {
		return nil, fmt.Errorf("gen: %d weights for %d institutions", len(cfg.Weights), len(insts))
	}
	depts, custom := cfg.Departments, cfg.Departments != nil
	if !custom {
		depts = DefaultDepartments()
	}
	for _, d := range depts {
		if strings.TrimSpace(d.Code) == "" || strings.TrimSpace(d.Name) == "" {
			return nil, errors.New("gen: a department needs a code and a name")
		}
		if _, ok := outcomeWeights[d.Specialty]; !ok {
			return nil, fmt.Errorf("gen: department %s: unknown specialty %q", d.Code, d.Specialty)
		}
	}
	g := &generator{cfg: cfg, r: rand.New(rand.NewPCG(cfg.Seed, 0x5375_6966_616e_6721))}
	g.tag = strconv.Itoa(10 + int(cfg.Seed%90))
	start, end := cfg.Start.In(cst), cfg.End.In(cst)
	g.day0 = time.Date(start.Year(), start.Month(), start.Day(), 0, 0, 0, 0, cst)
	last := end.Add(-time.Nanosecond)
	lastDay := time.Date(last.Year(), last.Month(), last.Day(), 0, 0, 0, 0, cst)
	g.days = int(math.Round(lastDay.Sub(g.day0).Hours()/24)) + 1

	sum := 0
	for _, s := range surnames {
		sum += s.w
		g.surCum = append(g.surCum, sum)
	}
	for i, code := range insts {
		ig := &instGen{code: code, weight: 1}
		if len(cfg.Weights) > 0 {
			if cfg.Weights[i] < 1 {
				return nil, fmt.Errorf("gen: institution %s: weight must be at least 1", code)
			}
			ig.weight = cfg.Weights[i]
		}
		pick := func(inst string) {
			for _, d := range depts {
				if d.Institution == inst {
					ig.depts = append(ig.depts, &deptGen{Department: d})
				}
			}
		}
		pick(code)
		if len(ig.depts) == 0 {
			pick("")
		}
		if len(ig.depts) == 0 && !custom {
			pick("H01")
		}
		if len(ig.depts) == 0 {
			return nil, fmt.Errorf("gen: no departments for institution %q", code)
		}
		n := 0
		for _, d := range ig.depts {
			n += max(d.Weight, 1)
			ig.cum = append(ig.cum, n)
			if err := g.setupDept(d); err != nil {
				return nil, err
			}
		}
		g.insts = append(g.insts, ig)
		g.total += ig.weight
	}
	g.cur = make([]int, len(g.insts))
	return g, nil
}

// setupDept finds the department's diagnoses and makes up its staff.
func (g *generator) setupDept(d *deptGen) error {
	n := 0
	for i := range diagnoses {
		dg := &diagnoses[i]
		for _, s := range dg.specs {
			if s == d.Specialty {
				d.diags = append(d.diags, dg)
				n += dg.weight
				d.cum = append(d.cum, n)
				break
			}
		}
	}
	if len(d.diags) == 0 {
		return fmt.Errorf("gen: no diagnoses for specialty %q", d.Specialty)
	}
	for range 5 {
		d.doctors = append(d.doctors, g.name(g.r.Float64() < 0.55))
	}
	for range 6 {
		d.nurses = append(d.nurses, g.name(g.r.Float64() < 0.08))
	}
	return nil
}

// pickCum draws an index from cumulative weights.
func pickCum(r *rand.Rand, cum []int) int {
	x := r.IntN(cum[len(cum)-1])
	lo, hi := 0, len(cum)-1
	for lo < hi {
		m := (lo + hi) / 2
		if cum[m] > x {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return lo
}

// nextInst is smooth weighted round-robin: exact shares, no randomness.
func (g *generator) nextInst() *instGen {
	best := 0
	for i, ig := range g.insts {
		g.cur[i] += ig.weight
		if g.cur[i] > g.cur[best] {
			best = i
		}
	}
	g.cur[best] -= g.total
	return g.insts[best]
}

// triangular draws from the triangular distribution on [lo, hi] with the
// given mode.
func triangular(r *rand.Rand, lo, mode, hi float64) float64 {
	if hi <= lo {
		return lo
	}
	u := r.Float64()
	if f := (mode - lo) / (hi - lo); u < f {
		return lo + math.Sqrt(u*(hi-lo)*(mode-lo))
	}
	return hi - math.Sqrt((1-u)*(hi-lo)*(hi-mode))
}

// name makes a Chinese name: a surname by frequency and one or two
// given-name characters fitting the sex (some neutral).
func (g *generator) name(male bool) string {
	r := g.r
	var b strings.Builder
	b.WriteString(surnames[pickCum(r, g.surCum)].s)
	n := 1
	if r.IntN(10) < 7 {
		n = 2
	}
	for range n {
		chars := femaleChars
		switch {
		case r.IntN(5) == 0:
			chars = neutralChars
		case male:
			chars = maleChars
		}
		b.WriteRune(chars[r.IntN(len(chars))])
	}
	return b.String()
}

func (g *generator) phone() string {
	r := g.r
	b := make([]byte, 0, 11)
	b = append(b, mobilePrefixes[r.IntN(len(mobilePrefixes))]...)
	for range 8 {
		b = append(b, byte('0'+r.IntN(10)))
	}
	return string(b)
}

func (g *generator) address(home region) string {
	r := g.r
	rg := home
	if r.IntN(4) == 0 {
		rg = regions[r.IntN(len(regions))]
	}
	var b strings.Builder
	b.WriteString(rg.province)
	b.WriteString(rg.city)
	b.WriteString(rg.district)
	b.WriteString(streets[r.IntN(len(streets))])
	b.WriteString(strconv.Itoa(1 + r.IntN(399)))
	b.WriteString("号")
	if r.IntN(10) < 6 {
		b.WriteString(estates[r.IntN(len(estates))])
		b.WriteString(strconv.Itoa(1 + r.IntN(30)))
		b.WriteString("栋")
		b.WriteString(strconv.Itoa(1 + r.IntN(4)))
		b.WriteString("单元")
		b.WriteString(strconv.Itoa(1 + r.IntN(28)))
		b.WriteString("0")
		b.WriteString(strconv.Itoa(1 + r.IntN(4)))
		b.WriteString("室")
	}
	return b.String()
}

func (g *generator) employer(age int) string {
	r := g.r
	switch {
	case age < 7:
		return ""
	case age < 13:
		return "市实验小学"
	case age < 19:
		return "市第一中学"
	case age >= 60 && r.IntN(10) < 7:
		return "退休"
	case r.IntN(10) == 0:
		return ""
	}
	return employers[r.IntN(len(employers))]
}

// dischargeTime is a minute in daytime hours of day, inside [Start, End).
func (g *generator) dischargeTime(day time.Time) time.Time {
	start, end := g.cfg.Start, g.cfg.End
	lo, hi := day.Add(8*time.Hour), day.Add(18*time.Hour)
	if lo.Before(start) {
		lo = start
	}
	if hi.After(end) {
		hi = end
	}
	if !lo.Before(hi) {
		lo, hi = day, day.Add(24*time.Hour)
		if lo.Before(start) {
			lo = start
		}
		if hi.After(end) {
			hi = end
		}
	}
	t := lo
	if span := int64(hi.Sub(lo) / time.Minute); span > 0 {
		t = lo.Add(time.Duration(g.r.Int64N(span)) * time.Minute)
	}
	if tt := t.Truncate(time.Minute); !tt.Before(start) {
		t = tt
	} else {
		t = tt.Add(time.Minute)
	}
	return t.In(cst)
}

var outcomes = [5]intake.Outcome{intake.Cured, intake.Improved, intake.NotCured, intake.Died, intake.Other}

// row fills r with discharge number i (0-based).
func (g *generator) row(i int, out *row) {
	r := g.r
	ig := g.nextInst()
	d := ig.depts[pickCum(r, ig.cum)]
	dg := d.diags[pickCum(r, d.cum)]
	spec := d.Specialty

	dayIdx := int(int64(i) * int64(g.days) / int64(max(g.cfg.Count, 1)))
	day := g.day0.AddDate(0, 0, dayIdx)
	dis := g.dischargeTime(day)
	los := dg.los[0] + r.IntN(dg.los[1]-dg.los[0]+1)
	disDay := time.Date(dis.Year(), dis.Month(), dis.Day(), 0, 0, 0, 0, cst)
	admDay := disDay.AddDate(0, 0, -los)
	adm := admDay.Add(time.Duration(7*60+r.IntN(15*60)) * time.Minute)

	var male bool
	switch dg.sex {
	case 'F':
	case 'M':
		male = true
	default:
		male = r.Float64() < maleShare[spec]
	}
	shape := ageShape[spec]
	lo, hi := shape.lo, shape.hi
	if dg.age[1] > 0 {
		lo, hi = dg.age[0], dg.age[1]
	}
	age := 0
	if !dg.newborn {
		age = min(int(triangular(r, float64(lo), float64(lo)+shape.mode*float64(hi-lo), float64(hi)+0.999)), hi)
	}
	var back int // days since the last birthday, at admission
	switch {
	case dg.newborn:
		back = 1 + r.IntN(28)
	case age == 0:
		back = 1 + r.IntN(364)
	default:
		back = r.IntN(365)
	}
	birth := admDay.AddDate(-age, 0, -back)
	bd := calendar.Date{Year: birth.Year(), Month: birth.Month(), Day: birth.Day()}

	home := regions[r.IntN(len(regions))]
	id := pii.GenerateNationalID(home.code, time.Date(bd.Year, bd.Month, bd.Day, 0, 0, 0, 0, time.UTC), r.IntN(100), male)

	m := &out.msg
	m.Line = i + 2
	m.Source = "row " + strconv.Itoa(i+2)
	m.Event = intake.Discharge
	m.Facility = ig.code
	p := &m.Patient
	p.MRN = g.tag + pad8(i+1)
	p.NationalID = id
	p.Name = g.name(male)
	p.Sex = intake.Female
	if male {
		p.Sex = intake.Male
	}
	p.BirthDate = bd
	p.Phones = []string{g.phone()}
	if r.IntN(5) == 0 {
		p.Phones = append(p.Phones, g.phone()) // a relative's number
	}
	p.Address = g.address(home)
	p.Employer = g.employer(age)

	e := &m.Encounter
	e.VisitNumber = "ZY" + g.tag + pad8(i+1)
	e.DepartmentCode, e.DepartmentName = d.Code, d.Name
	e.WardCode, e.WardName = d.WardCode, d.WardName
	e.AttendingDoctor = d.doctors[r.IntN(len(d.doctors))]
	e.ResponsibleNurse = d.nurses[r.IntN(len(d.nurses))]
	e.AdmittedAt, e.DischargedAt = adm, dis
	e.Diagnoses = []intake.Diagnosis{{Code: dg.code, Name: dg.name}}
	if age >= 45 && spec != ObGyn && spec != Pediatrics && spec != Dental {
		for _, c := range comorbidities {
			if r.Float64() < c.p && c.code[:3] != dg.code[:3] {
				e.Diagnoses = append(e.Diagnoses, intake.Diagnosis{Code: c.code, Name: c.name})
			}
		}
	}
	out.surgeryName = ""
	if dg.surgery != "" && r.Float64() < dg.pSurgery {
		out.surgeryName = dg.surgery
	}
	e.Surgery = out.surgeryName != ""
	w := outcomeWeights[spec]
	x := r.IntN(1000)
	e.Outcome = intake.Other
	for k, n := range w {
		if x < n {
			e.Outcome = outcomes[k]
			break
		}
		x -= n
	}
}

// pad8 is n with leading zeros to eight digits.
func pad8(n int) string {
	s := strconv.Itoa(n)
	if len(s) >= 8 {
		return s
	}
	return "00000000"[len(s):] + s
}
