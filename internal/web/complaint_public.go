package web

import (
	"net/http"
	"strconv"
	"time"

	"suifang/internal/complaint"
	"suifang/internal/errs"
)

// The public complaint page on the hospital's site (/c/{code}) and the
// tracking lookup (/c/track). They use the patient pages' tiny layout and
// limiter: no login, no script, zh-CN first. Filing and looking up have a
// second, much tighter bucket per address, because each one is a write or
// a guess at someone else's code.

// Filing and tracking allow a burst of 5 per address, then one a minute.
const (
	cpPublicBurst = 5
	cpPublicEvery = time.Minute
)

type complaintPublicUI struct {
	*patientUI
	posts *limiter // filing and lookups
}

// cpFormView is the public form, blank or re-displayed with its problems.
type cpFormView struct {
	Lang     string
	Hospital *complaint.PublicInstitution
	Action   string
	In       complaint.PublicInput
	Dept     string // the chosen department, as posted
	Problems map[string]string
	Today    string
}

// cpReceiptView is the answer after filing, and after each step of the
// number check that follows.
type cpReceiptView struct {
	Lang     string
	Receipt  *complaint.PublicReceipt
	Received string
	Minutes  int // RetryAfter in whole minutes, rounded up
}

// receipt renders the receipt page: 429 with Retry-After when a cap
// stopped the code, 422 when the code typed was not accepted.
func (u *complaintPublicUI) receipt(w http.ResponseWriter, lang string, rc *complaint.PublicReceipt) error {
	v := &cpReceiptView{Lang: lang, Receipt: rc, Received: rc.ReceivedAt.In(publicTZ).Format("2006-01-02 15:04")}
	status := http.StatusOK
	switch {
	case rc.RetryAfter > 0:
		secs := int((rc.RetryAfter + time.Second - 1) / time.Second)
		v.Minutes = (secs + 59) / 60
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		status = http.StatusTooManyRequests
	case rc.Problem != "":
		status = http.StatusUnprocessableEntity
	}
	// The page holds the verification token and the tracking code: no
	// cache may keep it.
	w.Header().Set("Cache-Control", "no-store")
	return u.render(w, status, "cp_receipt", v)
}

// cpTrackView is the lookup form and, when found, the public progress.
type cpTrackView struct {
	Lang     string
	Code     string
	NotFound bool
	Bad      bool
	Status   *complaint.PublicStatus
	Steps    []cpStep
}

type cpStep struct {
	Step string
	At   string
}

// publicTZ shows times to the public in China time; every hospital on the
// platform is in mainland China and the page has no institution to ask.
var publicTZ = time.FixedZone("CST", 8*3600)

// throttlePosts takes a token from the tighter bucket and answers 429
// when there is none.
func (u *complaintPublicUI) throttlePosts(w http.ResponseWriter, r *http.Request, lang string) bool {
	if ok, wait := u.posts.allow(clientIP(r)); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait/time.Second)+1))
		u.message(w, lang, http.StatusTooManyRequests, "busy", "", "")
		return false
	}
	return true
}

func (u *complaintPublicUI) form(w http.ResponseWriter, r *http.Request, lang string) error {
	h, err := u.s.Complaints.PublicHospital(r.Context(), r.PathValue("code"))
	if err != nil {
		return err
	}
	return u.render(w, http.StatusOK, "cp_form", &cpFormView{Lang: lang, Hospital: h, Action: "/c/" + h.Code,
		In: complaint.PublicInput{Role: "patient"}, Today: u.today()})
}

func (u *complaintPublicUI) today() string {
	now := time.Now
	if u.s.Now != nil {
		now = u.s.Now
	}
	return now().In(publicTZ).Format("2006-01-02")
}

// maxComplaintForm bounds a posted complaint: two 4000-character texts
// and a few short fields.
const maxComplaintForm = 64 << 10

func (u *complaintPublicUI) file(w http.ResponseWriter, r *http.Request, lang string) error {
	if !u.throttlePosts(w, r, lang) {
		return nil
	}
	code := r.PathValue("code")
	h, err := u.s.Complaints.PublicHospital(r.Context(), code)
	if err != nil {
		return err
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxComplaintForm)
	if err := r.ParseForm(); err != nil {
		return errs.New(errs.Invalid, "bad_form", "the form could not be read")
	}
	f := r.PostForm
	in := complaint.PublicInput{Name: f.Get("name"), Phone: f.Get("phone"), Role: f.Get("role"), OccurredOn: f.Get("occurred_on"),
		Content: f.Get("content"), Asks: f.Get("asks"), Client: clientIP(r)}
	in.DepartmentID, _ = strconv.ParseInt(f.Get("department_id"), 10, 64)
	in.DeptUnknown = f.Get("department_id") == "unknown" // "不清楚": the complaint office takes it
	rc, err := u.s.Complaints.RegisterPublic(r.Context(), h.Code, in)
	if err != nil {
		e, ok := errs.As(err)
		if !ok || e.Kind != errs.Invalid || len(e.Fields) == 0 {
			return err
		}
		// Everything typed comes back, the faulty field marked.
		return u.render(w, http.StatusUnprocessableEntity, "cp_form", &cpFormView{Lang: lang, Hospital: h, Action: "/c/" + h.Code,
			In: in, Dept: f.Get("department_id"), Problems: e.Fields, Today: u.today()})
	}
	// No redirect: the code is shown here and is not put in a URL a
	// shared phone's history would keep; the verification token travels
	// in the page's forms only.
	return u.receipt(w, lang, rc)
}

// verifyForm reads the verification token (and the code) of a posted
// receipt page.
func verifyForm(w http.ResponseWriter, r *http.Request) (token, code string, err error) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		return "", "", errs.New(errs.Invalid, "bad_form", "the form could not be read")
	}
	return r.PostForm.Get("verify"), r.PostForm.Get("sms_code"), nil
}

// verify takes the code texted to the complainant's number.
func (u *complaintPublicUI) verify(w http.ResponseWriter, r *http.Request, lang string) error {
	if !u.throttlePosts(w, r, lang) {
		return nil
	}
	token, code, err := verifyForm(w, r)
	if err != nil {
		return err
	}
	rc, err := u.s.Complaints.VerifyPublic(r.Context(), token, code)
	if err != nil {
		return err
	}
	return u.receipt(w, lang, rc)
}

// resend asks for a fresh code, under the caps on public SMS.
func (u *complaintPublicUI) resend(w http.ResponseWriter, r *http.Request, lang string) error {
	if !u.throttlePosts(w, r, lang) {
		return nil
	}
	token, _, err := verifyForm(w, r)
	if err != nil {
		return err
	}
	rc, err := u.s.Complaints.ResendPublic(r.Context(), token, clientIP(r))
	if err != nil {
		return err
	}
	return u.receipt(w, lang, rc)
}

func (u *complaintPublicUI) trackForm(w http.ResponseWriter, r *http.Request, lang string) error {
	return u.render(w, http.StatusOK, "cp_track", &cpTrackView{Lang: lang})
}

func (u *complaintPublicUI) track(w http.ResponseWriter, r *http.Request, lang string) error {
	if !u.throttlePosts(w, r, lang) {
		return nil
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		return errs.New(errs.Invalid, "bad_form", "the form could not be read")
	}
	v := &cpTrackView{Lang: lang, Code: r.PostForm.Get("code")}
	st, err := u.s.Complaints.Track(r.Context(), v.Code, r.PostForm.Get("last4"))
	if errs.CodeOf(err) == "complaint_track_not_found" {
		// One answer for an unknown code and for wrong digits.
		v.NotFound = true
		return u.render(w, http.StatusNotFound, "cp_track", v)
	}
	if err != nil {
		return err
	}
	v.Status = st
	for _, s := range st.Steps {
		v.Steps = append(v.Steps, cpStep{Step: s.Step, At: s.At.In(publicTZ).Format("2006-01-02 15:04")})
	}
	return u.render(w, http.StatusOK, "cp_track", v)
}

// fail: an unknown hospital code is a kind "not found" page.
func (u *complaintPublicUI) wrap(h func(w http.ResponseWriter, r *http.Request, lang string) error) http.HandlerFunc {
	return u.limited(func(w http.ResponseWriter, r *http.Request, lang string) error {
		err := h(w, r, lang)
		switch errs.CodeOf(err) {
		case "complaint_hospital_not_found":
			return u.message(w, lang, http.StatusNotFound, "cp_nohosp", "", "")
		case "complaint_verify_not_found":
			return u.message(w, lang, http.StatusNotFound, "cp_noverify", "", "")
		}
		return err
	})
}

// complaintSheetData is the printable handling sheet: the complaint page's
// data plus the approvals picked out of the history.
type complaintSheetData struct {
	*complaintPageData
	Approvals []complaintEventRow
	Printed   time.Time
}

// complaintSheet is the printable 医疗投诉及纠纷处理表; the service's scope
// check decides who may print it.
func (s *Server) complaintSheet(w http.ResponseWriter, r *http.Request, q *req) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	d, err := s.complaintData(r, q, id)
	if err != nil {
		return err
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	sd := &complaintSheetData{complaintPageData: d, Printed: now()}
	for _, e := range d.Events {
		if e.Action == complaint.ActApprove || e.Action == complaint.ActReturn {
			sd.Approvals = append(sd.Approvals, e)
		}
	}
	return s.render(w, r, q, http.StatusOK, "complaint_sheet", "complaints", sd)
}

// newComplaintPublicUI builds the public complaint pages (no login,
// rate-limited, the patient layout).
func (s *Server) newComplaintPublicUI() *complaintPublicUI {
	pu, err := newPatientUI(s)
	if err != nil {
		panic(err) // embedded templates: a build mistake every test run catches
	}
	now := s.Now
	if now == nil {
		now = time.Now
	}
	return &complaintPublicUI{patientUI: pu, posts: newLimiter(now, cpPublicBurst, cpPublicEvery)}
}
