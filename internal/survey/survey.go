package survey

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"suifang/internal/access"
	"suifang/internal/audit"
	"suifang/internal/errs"
	"suifang/internal/followup"
	"suifang/internal/kpi"
	"suifang/internal/notify"
	"suifang/internal/patient"
	"suifang/internal/pii"
	"suifang/internal/store"
)

// Outbox is the part of the notify room the survey room needs: queue a
// message in the caller's transaction, and cancel what is still queued for
// a business object.
type Outbox interface {
	Enqueue(ctx context.Context, tx *sql.Tx, m notify.Message) (int64, error)
	CancelRef(ctx context.Context, tx *sql.Tx, inst int64, ref string) (int, error)
}

// Negative is an answer the department must hear about (不满意, a rating of
// 2 or less, a negative option, or any answer to a flagged item).
type Negative struct {
	InstitutionID int64
	PatientID     int64
	EncounterID   int64
	TaskID        int64
	ResponseID    int64
	DepartmentID  int64
	Topic         string // doctors, nurses, medtech, environment, meals, fees, process, ethics, other
	Question      string
	Text          string // the answer as the patient chose or wrote it
}

// Hooks connect the survey room to the rooms that act on its results. All
// run inside the response's transaction; nil hooks are skipped.
type Hooks struct {
	Outbox     Outbox
	OnNegative func(ctx context.Context, tx *sql.Tx, n Negative) error
	OnRecovery func(ctx context.Context, tx *sql.Tx, noticeRef string, satisfaction string, score *int) error
}

// Config holds the deployment-wide survey settings.
type Config struct {
	// PublicURL is the patient-facing origin put in front of /s/{token}
	// in messages, e.g. "https://sf.example-hospital.cn"; "" gives a
	// relative link.
	PublicURL string
}

// Service is the door to questionnaires, invitations and responses.
type Service struct {
	db       *store.DB
	audit    *audit.Service
	patients *patient.Service
	followup *followup.Service
	signer   *pii.Indexer
	now      func() time.Time
	log      *slog.Logger
	hooks    atomic.Pointer[Hooks]
	cfg      Config
	targets  kpi.TargetReader
}

// Deps are what New needs; every room's service is built from one such
// struct, so adding a dependency never reorders a parameter list.
type Deps struct {
	DB       *store.DB         // the database
	Audit    *audit.Service    // the audit log, written in the callers' transactions
	Patients *patient.Service  // the patient archive
	Followup *followup.Service // the follow-up room (plans, records)
	Signer   *pii.Indexer      // signs survey links
	Now      func() time.Time  // the clock (time.Now in production)
	Log      *slog.Logger      // nil: discard
	Config   Config            // the survey settings
	Hooks    Hooks             // outbox and notice hooks
	Targets  kpi.TargetReader  // the institution's KPI targets; nil: the defaults
}

// New returns the survey service. signer keys the invitation links (the
// blind-index key, used under its own domain "survey_link").
func New(d Deps) *Service {
	db, au, pat, fu, signer, now, log, cfg, hooks := d.DB, d.Audit, d.Patients, d.Followup, d.Signer, d.Now, d.Log, d.Config, d.Hooks
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Service{db: db, audit: au, patients: pat, followup: fu, signer: signer, now: now, log: log, cfg: cfg, targets: d.Targets}
	s.hooks.Store(&hooks)
	return s
}

// SetHooks replaces the hooks; core.Build calls it once the rooms the
// hooks reach exist. Safe while workers run.
func (s *Service) SetHooks(h Hooks) { s.hooks.Store(&h) }

func (s *Service) h() *Hooks { return s.hooks.Load() }

// Version statuses.
const (
	Draft     = "draft"
	Published = "published"
	Retired   = "retired"
)

// Questionnaire is a questionnaire with its newest and its published version.
type Questionnaire struct {
	ID            int64
	InstitutionID int64
	Key           string
	Purpose       string
	Shared        bool // in the group library
	CopiedFrom    int64
	Library       bool // belongs to the caller's group, not to the institution itself
	Title         string
	Latest        VersionInfo
	Published     VersionInfo // zero when none is published
}

// VersionInfo names a version without its body.
type VersionInfo struct {
	ID          int64
	Number      int
	Status      string
	Title       string
	PublishedAt time.Time
	PublishedBy string
}

// Version is one version with its content.
type Version struct {
	VersionInfo
	QuestionnaireID int64
	InstitutionID   int64
	Key             string
	Purpose         string
	Body            Body
}

// designer may change questionnaires of inst.
func designer(p *access.Principal, inst int64) error {
	if !p.SeesInstitution(inst) || !p.HasAny(access.SysAdmin, access.Quality) {
		return errs.New(errs.Forbidden, "survey_designer_only", "only administrators and the quality office design questionnaires")
	}
	return nil
}

// parentOf is inst's group (0 when none).
func parentOf(ctx context.Context, q store.Querier, inst int64) (int64, error) {
	var parent sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT parent_id FROM institutions WHERE id = $1`, inst).Scan(&parent)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, errs.New(errs.NotFound, "institution_not_found", "no such institution")
	}
	if err != nil {
		return 0, fmt.Errorf("survey: institution: %w", err)
	}
	return parent.Int64, nil
}

// sees reports whether p may read questionnaire q: its own institution's, or
// a shared one of the group its institution belongs to.
func (s *Service) sees(ctx context.Context, p *access.Principal, owner int64, shared bool) (bool, error) {
	if p.TouchesInstitution(owner) {
		return true, nil
	}
	if !shared {
		return false, nil
	}
	for _, inst := range p.Institutions() {
		parent, err := parentOf(ctx, s.db.R(), inst)
		if err != nil {
			return false, err
		}
		if parent == owner {
			return true, nil
		}
	}
	return false, nil
}

const qCols = `q.id, q.institution_id, q.qkey, q.purpose, q.shared, q.copied_from,
	l.id, l.version, l.status, l.title, l.published_at, l.published_by,
	COALESCE(pv.id, 0), COALESCE(pv.version, 0), COALESCE(pv.title, ''), COALESCE(pv.published_at, 0), COALESCE(pv.published_by, '')`

// qFrom joins each questionnaire to its newest version and its published one.
const qFrom = ` FROM questionnaires q
	JOIN questionnaire_versions l ON l.questionnaire_id = q.id
		AND l.version = (SELECT MAX(version) FROM questionnaire_versions WHERE questionnaire_id = q.id)
	LEFT JOIN questionnaire_versions pv ON pv.questionnaire_id = q.id AND pv.status = 'published'`

func scanQ(sc interface{ Scan(...any) error }) (*Questionnaire, error) {
	q := &Questionnaire{}
	var lpub, ppub int64
	err := sc.Scan(&q.ID, &q.InstitutionID, &q.Key, &q.Purpose, &q.Shared, &q.CopiedFrom,
		&q.Latest.ID, &q.Latest.Number, &q.Latest.Status, &q.Latest.Title, &lpub, &q.Latest.PublishedBy,
		&q.Published.ID, &q.Published.Number, &q.Published.Title, &ppub, &q.Published.PublishedBy)
	if err != nil {
		return nil, err
	}
	q.Latest.PublishedAt, q.Published.PublishedAt = store.Time(lpub), store.Time(ppub)
	if q.Published.ID != 0 {
		q.Published.Status = Published
	}
	q.Title = q.Latest.Title
	return q, nil
}

// requireViewer: questionnaires, their settings and results are for the
// service centre, quality, leadership and department heads (and the
// platform's administrators), whatever their data scope.
func requireViewer(p *access.Principal) error {
	if !p.HasAny(access.SysAdmin, access.Quality, access.Leadership, access.DeptHead, access.Agent) {
		return errs.New(errs.Forbidden, "survey_forbidden", "questionnaires are for the service centre, quality office, leadership and department heads")
	}
	return nil
}

// List returns inst's questionnaires followed by its group's shared library.
func (s *Service) List(ctx context.Context, p *access.Principal, inst int64) ([]*Questionnaire, error) {
	if err := requireViewer(p); err != nil {
		return nil, err
	}
	if !p.TouchesInstitution(inst) {
		return nil, errs.New(errs.Forbidden, "out_of_scope", "this institution is outside your data scope")
	}
	parent, err := parentOf(ctx, s.db.R(), inst)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.R().QueryContext(ctx, `SELECT `+qCols+qFrom+` WHERE q.institution_id = $1 OR (q.institution_id = $2 AND q.shared = $3)
		ORDER BY CASE WHEN q.institution_id = $1 THEN 0 ELSE 1 END, q.id`, inst, parent, true)
	if err != nil {
		return nil, fmt.Errorf("survey: list: %w", err)
	}
	defer rows.Close()
	var out []*Questionnaire
	for rows.Next() {
		q, err := scanQ(rows)
		if err != nil {
			return nil, fmt.Errorf("survey: list: %w", err)
		}
		q.Library = q.InstitutionID != inst
		out = append(out, q)
	}
	return out, rows.Err()
}

// Questionnaire returns one questionnaire p may see.
func (s *Service) Questionnaire(ctx context.Context, p *access.Principal, id int64) (*Questionnaire, error) {
	if err := requireViewer(p); err != nil {
		return nil, err
	}
	q, err := scanQ(s.db.R().QueryRowContext(ctx, `SELECT `+qCols+qFrom+` WHERE q.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.New(errs.NotFound, "questionnaire_not_found", "no such questionnaire")
	}
	if err != nil {
		return nil, fmt.Errorf("survey: questionnaire: %w", err)
	}
	ok, err := s.sees(ctx, p, q.InstitutionID, q.Shared)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errs.New(errs.Forbidden, "out_of_scope", "this questionnaire is outside your data scope")
	}
	q.Library = !p.TouchesInstitution(q.InstitutionID)
	return q, nil
}

const vCols = `v.id, v.version, v.status, v.title, v.published_at, v.published_by, v.questionnaire_id, q.institution_id, q.qkey,
	q.purpose, v.body_json`

func scanV(sc interface{ Scan(...any) error }) (*Version, error) {
	v := &Version{}
	var pub int64
	var body string
	if err := sc.Scan(&v.ID, &v.Number, &v.Status, &v.Title, &pub, &v.PublishedBy, &v.QuestionnaireID, &v.InstitutionID,
		&v.Key, &v.Purpose, &body); err != nil {
		return nil, err
	}
	v.PublishedAt = store.Time(pub)
	if err := json.Unmarshal([]byte(body), &v.Body); err != nil {
		return nil, fmt.Errorf("survey: version %d body: %w", v.ID, err)
	}
	return v, nil
}

func (s *Service) version(ctx context.Context, q store.Querier, id int64) (*Version, error) {
	v, err := scanV(q.QueryRowContext(ctx, `SELECT `+vCols+` FROM questionnaire_versions v
		JOIN questionnaires q ON q.id = v.questionnaire_id WHERE v.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.New(errs.NotFound, "version_not_found", "no such questionnaire version")
	}
	if err != nil {
		return nil, fmt.Errorf("survey: version: %w", err)
	}
	return v, nil
}

// Version returns one version p may see.
func (s *Service) Version(ctx context.Context, p *access.Principal, id int64) (*Version, error) {
	v, err := s.version(ctx, s.db.R(), id)
	if err != nil {
		return nil, err
	}
	if _, err := s.Questionnaire(ctx, p, v.QuestionnaireID); err != nil {
		return nil, err
	}
	return v, nil
}

// Versions lists a questionnaire's versions, newest first.
func (s *Service) Versions(ctx context.Context, p *access.Principal, qid int64) ([]VersionInfo, error) {
	if _, err := s.Questionnaire(ctx, p, qid); err != nil {
		return nil, err
	}
	rows, err := s.db.R().QueryContext(ctx, `SELECT id, version, status, title, published_at, published_by FROM questionnaire_versions
		WHERE questionnaire_id = $1 ORDER BY version DESC`, qid)
	if err != nil {
		return nil, fmt.Errorf("survey: versions: %w", err)
	}
	defer rows.Close()
	var out []VersionInfo
	for rows.Next() {
		var v VersionInfo
		var pub int64
		if err := rows.Scan(&v.ID, &v.Number, &v.Status, &v.Title, &pub, &v.PublishedBy); err != nil {
			return nil, fmt.Errorf("survey: versions: %w", err)
		}
		v.PublishedAt = store.Time(pub)
		out = append(out, v)
	}
	return out, rows.Err()
}

var keyRE = regexp.MustCompile(`^[a-z][a-z0-9_]{1,39}$`)

// NewInput is a questionnaire being created.
type NewInput struct {
	Key, Title, Purpose string
	Body                Body
}

func (in *NewInput) validate() error {
	in.Key, in.Title = strings.TrimSpace(in.Key), strings.TrimSpace(in.Title)
	if !keyRE.MatchString(in.Key) {
		return errs.Field("key", "bad_questionnaire_key", "the key is 2–40 lower-case letters, digits or underscores, starting with a letter")
	}
	if err := checkTitle(in.Title); err != nil {
		return err
	}
	if in.Purpose == "" {
		in.Purpose = "other"
	}
	if !slices.Contains(purposes, in.Purpose) {
		return errs.Field("purpose", "bad_purpose", "unknown purpose")
	}
	return in.Body.Validate()
}

func checkTitle(t string) error {
	if t == "" || utf8.RuneCountInString(t) > 100 {
		return errs.Field("title", "bad_title", "the title is required (at most 100 characters)")
	}
	return nil
}

// Create makes a questionnaire with a draft version 1.
func (s *Service) Create(ctx context.Context, p *access.Principal, inst int64, in NewInput) (qid, vid int64, err error) {
	if err := designer(p, inst); err != nil {
		return 0, 0, err
	}
	if err := in.validate(); err != nil {
		return 0, 0, err
	}
	err = s.db.Write(ctx, func(tx *sql.Tx) error {
		qid, vid, err = s.insert(ctx, tx, inst, in, Draft, "", 0)
		if err != nil {
			return err
		}
		return s.audit.Append(ctx, tx, audit.Event(p, "survey.create", "questionnaire", fmt.Sprint(qid), inst))
	})
	return qid, vid, err
}

func (s *Service) insert(ctx context.Context, tx *sql.Tx, inst int64, in NewInput, status, by string, copied int64) (qid, vid int64, err error) {
	now := store.Micros(s.now())
	err = tx.QueryRowContext(ctx, `INSERT INTO questionnaires (institution_id, qkey, purpose, shared, copied_from, created_at, updated_at)
		VALUES ($1,$2,$3,$4,$5,$6,$6) RETURNING id`, inst, in.Key, in.Purpose, false, copied, now).Scan(&qid)
	if store.IsUniqueViolation(err) {
		return 0, 0, errs.Field("key", "questionnaire_key_taken", "this institution already has a questionnaire with this key")
	}
	if err != nil {
		return 0, 0, fmt.Errorf("survey: insert questionnaire: %w", err)
	}
	body, _ := json.Marshal(in.Body)
	pub := int64(0)
	if status == Published {
		pub = now
	}
	err = tx.QueryRowContext(ctx, `INSERT INTO questionnaire_versions (questionnaire_id, version, status, title, body_json, created_at, updated_at,
		published_at, published_by) VALUES ($1, 1, $2, $3, $4, $5, $5, $6, $7) RETURNING id`, qid, status, in.Title, string(body), now, pub, by).Scan(&vid)
	if err != nil {
		return 0, 0, fmt.Errorf("survey: insert version: %w", err)
	}
	return qid, vid, nil
}

// SeedInstitution gives a new institution the default questionnaires,
// published, and its survey settings; it is an org creation hook.
func (s *Service) SeedInstitution(ctx context.Context, tx *sql.Tx, inst int64) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO survey_settings (institution_id, updated_at) VALUES ($1, $2)`, inst, store.Micros(s.now())); err != nil {
		return fmt.Errorf("survey: seed settings: %w", err)
	}
	for _, d := range Defaults() {
		in := NewInput{Key: d.Key, Title: d.Title, Purpose: d.Purpose, Body: d.Body}
		if err := in.validate(); err != nil {
			return fmt.Errorf("survey: default %s: %w", d.Key, err)
		}
		if _, _, err := s.insert(ctx, tx, inst, in, Published, "system", 0); err != nil {
			return err
		}
	}
	return nil
}

// editable loads a draft version for a designer.
func (s *Service) editable(ctx context.Context, tx *sql.Tx, p *access.Principal, vid int64) (*Version, error) {
	v, err := s.version(ctx, tx, vid)
	if err != nil {
		return nil, err
	}
	if err := designer(p, v.InstitutionID); err != nil {
		return nil, err
	}
	if v.Status != Draft {
		return nil, errs.New(errs.Conflict, "version_published", "a published version cannot change; make a new version")
	}
	return v, nil
}

// SaveDraft replaces the title and content of a draft version.
func (s *Service) SaveDraft(ctx context.Context, p *access.Principal, vid int64, title string, body Body) error {
	title = strings.TrimSpace(title)
	if err := checkTitle(title); err != nil {
		return err
	}
	if err := body.Validate(); err != nil {
		return err
	}
	b, _ := json.Marshal(body)
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		v, err := s.editable(ctx, tx, p, vid)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE questionnaire_versions SET title = $1, body_json = $2, updated_at = $3 WHERE id = $4 AND status = $5`,
			title, string(b), store.Micros(s.now()), vid, Draft); err != nil {
			return fmt.Errorf("survey: save draft: %w", err)
		}
		return s.audit.Append(ctx, tx, audit.Event(p, "survey.edit", "questionnaire_version", fmt.Sprint(vid), v.InstitutionID))
	})
}

// Publish freezes a draft; the version published before it is retired, so
// new invitations use the new one while old responses keep theirs.
func (s *Service) Publish(ctx context.Context, p *access.Principal, vid int64) error {
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		v, err := s.editable(ctx, tx, p, vid)
		if err != nil {
			return err
		}
		if err := v.Body.Validate(); err != nil {
			return err
		}
		now := store.Micros(s.now())
		if _, err := tx.ExecContext(ctx, `UPDATE questionnaire_versions SET status = $1 WHERE questionnaire_id = $2 AND status = $3`,
			Retired, v.QuestionnaireID, Published); err != nil {
			return fmt.Errorf("survey: retire: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE questionnaire_versions SET status = $1, published_at = $2, published_by = $3, updated_at = $2
			WHERE id = $4`, Published, now, p.Username, vid); err != nil {
			return fmt.Errorf("survey: publish: %w", err)
		}
		e := audit.Event(p, "survey.publish", "questionnaire_version", fmt.Sprint(vid), v.InstitutionID)
		e.Detail = fmt.Sprintf("questionnaire=%d version=%d", v.QuestionnaireID, v.Number)
		return s.audit.Append(ctx, tx, e)
	})
}

// NewVersion starts a draft from the newest version; if a draft exists it
// is returned instead, so there is never more than one.
func (s *Service) NewVersion(ctx context.Context, p *access.Principal, qid int64) (int64, error) {
	var vid int64
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		var inst int64
		if err := tx.QueryRowContext(ctx, `SELECT institution_id FROM questionnaires WHERE id = $1`, qid).Scan(&inst); errors.Is(err, sql.ErrNoRows) {
			return errs.New(errs.NotFound, "questionnaire_not_found", "no such questionnaire")
		} else if err != nil {
			return fmt.Errorf("survey: questionnaire: %w", err)
		}
		if err := designer(p, inst); err != nil {
			return err
		}
		var last int64
		var n int
		var status string
		if err := tx.QueryRowContext(ctx, `SELECT id, version, status FROM questionnaire_versions WHERE questionnaire_id = $1
			ORDER BY version DESC LIMIT 1`, qid).Scan(&last, &n, &status); err != nil {
			return fmt.Errorf("survey: newest version: %w", err)
		}
		if status == Draft {
			vid = last
			return nil
		}
		now := store.Micros(s.now())
		if err := tx.QueryRowContext(ctx, `INSERT INTO questionnaire_versions (questionnaire_id, version, status, title, body_json, created_at, updated_at)
			SELECT questionnaire_id, $1, $2, title, body_json, $3, $3 FROM questionnaire_versions WHERE id = $4 RETURNING id`,
			n+1, Draft, now, last).Scan(&vid); err != nil {
			return fmt.Errorf("survey: new version: %w", err)
		}
		return s.audit.Append(ctx, tx, audit.Event(p, "survey.new_version", "questionnaire", fmt.Sprint(qid), inst))
	})
	return vid, err
}

// SetShared puts a group's questionnaire into (or out of) the library its
// member institutions see.
func (s *Service) SetShared(ctx context.Context, p *access.Principal, qid int64, shared bool) error {
	q, err := s.Questionnaire(ctx, p, qid)
	if err != nil {
		return err
	}
	if err := designer(p, q.InstitutionID); err != nil {
		return err
	}
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE questionnaires SET shared = $1, updated_at = $2 WHERE id = $3`, shared, store.Micros(s.now()), qid); err != nil {
			return fmt.Errorf("survey: share: %w", err)
		}
		e := audit.Event(p, "survey.share", "questionnaire", fmt.Sprint(qid), q.InstitutionID)
		e.Detail = fmt.Sprint("shared=", shared)
		return s.audit.Append(ctx, tx, e)
	})
}

// CopyFromLibrary copies a questionnaire p may see (usually the group's)
// into inst as a new draft.
func (s *Service) CopyFromLibrary(ctx context.Context, p *access.Principal, inst, qid int64, key string) (int64, int64, error) {
	if err := designer(p, inst); err != nil {
		return 0, 0, err
	}
	q, err := s.Questionnaire(ctx, p, qid)
	if err != nil {
		return 0, 0, err
	}
	vid := q.Published.ID
	if vid == 0 {
		vid = q.Latest.ID
	}
	v, err := s.version(ctx, s.db.R(), vid)
	if err != nil {
		return 0, 0, err
	}
	if key == "" {
		key = q.Key
	}
	in := NewInput{Key: key, Title: v.Title, Purpose: q.Purpose, Body: v.Body}
	if err := in.validate(); err != nil {
		return 0, 0, err
	}
	var nq, nv int64
	err = s.db.Write(ctx, func(tx *sql.Tx) error {
		nq, nv, err = s.insert(ctx, tx, inst, in, Draft, "", qid)
		if err != nil {
			return err
		}
		e := audit.Event(p, "survey.copy", "questionnaire", fmt.Sprint(nq), inst)
		e.Detail = fmt.Sprint("from=", qid)
		return s.audit.Append(ctx, tx, e)
	})
	return nq, nv, err
}

// PublishedByKey is the published version of inst's questionnaire key.
func (s *Service) publishedByKey(ctx context.Context, q store.Querier, inst int64, key string) (*Version, error) {
	var vid int64
	err := q.QueryRowContext(ctx, `SELECT v.id FROM questionnaire_versions v JOIN questionnaires q ON q.id = v.questionnaire_id
		WHERE q.institution_id = $1 AND q.qkey = $2 AND v.status = $3`, inst, key, Published).Scan(&vid)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.New(errs.NotFound, "no_published_questionnaire", "the questionnaire "+key+" has no published version")
	}
	if err != nil {
		return nil, fmt.Errorf("survey: published %s: %w", key, err)
	}
	return s.version(ctx, q, vid)
}

// Settings are an institution's survey settings.
type Settings struct {
	InstitutionID   int64
	ServicePhone    string
	LinkDays        int // how long a link stays valid
	RemindAfterDays int // days between reminders to non-responders
	MaxReminders    int
	InviteKey       string // questionnaire sent for follow-up tasks
}

// Settings returns inst's settings (defaults when none were stored).
func (s *Service) Settings(ctx context.Context, p *access.Principal, inst int64) (*Settings, error) {
	if err := requireViewer(p); err != nil {
		return nil, err
	}
	if !p.TouchesInstitution(inst) {
		return nil, errs.New(errs.Forbidden, "out_of_scope", "this institution is outside your data scope")
	}
	return s.settings(ctx, s.db.R(), inst)
}

func (s *Service) settings(ctx context.Context, q store.Querier, inst int64) (*Settings, error) {
	st := &Settings{InstitutionID: inst, LinkDays: 14, RemindAfterDays: 3, MaxReminders: 2, InviteKey: "inpatient_satisfaction"}
	err := q.QueryRowContext(ctx, `SELECT service_phone, link_days, remind_after_days, max_reminders, invite_key FROM survey_settings
		WHERE institution_id = $1`, inst).Scan(&st.ServicePhone, &st.LinkDays, &st.RemindAfterDays, &st.MaxReminders, &st.InviteKey)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("survey: settings: %w", err)
	}
	return st, nil
}

var phoneRE = regexp.MustCompile(`^[0-9+() -]{3,30}$`)

// SaveSettings stores inst's settings (designers only).
func (s *Service) SaveSettings(ctx context.Context, p *access.Principal, st Settings) error {
	if err := designer(p, st.InstitutionID); err != nil {
		return err
	}
	st.ServicePhone = strings.TrimSpace(st.ServicePhone)
	switch {
	case st.ServicePhone != "" && !phoneRE.MatchString(st.ServicePhone):
		return errs.Field("service_phone", "bad_service_phone", "the service phone has digits, spaces, dashes or brackets")
	case st.LinkDays < 1 || st.LinkDays > 90:
		return errs.Field("link_days", "bad_link_days", "a link is valid for 1 to 90 days")
	case st.RemindAfterDays < 1 || st.RemindAfterDays > 30:
		return errs.Field("remind_after_days", "bad_remind_after_days", "remind after 1 to 30 days")
	case st.MaxReminders < 0 || st.MaxReminders > 5:
		return errs.Field("max_reminders", "bad_max_reminders", "at most 5 reminders")
	}
	if _, err := s.publishedByKey(ctx, s.db.R(), st.InstitutionID, st.InviteKey); err != nil {
		return errs.Field("invite_key", "bad_invite_key", "choose a questionnaire with a published version")
	}
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		now := store.Micros(s.now())
		if _, err := tx.ExecContext(ctx, `INSERT INTO survey_settings (institution_id, service_phone, link_days, remind_after_days, max_reminders,
			invite_key, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT (institution_id) DO UPDATE SET service_phone = $2, link_days = $3,
			remind_after_days = $4, max_reminders = $5, invite_key = $6, updated_at = $7`,
			st.InstitutionID, st.ServicePhone, st.LinkDays, st.RemindAfterDays, st.MaxReminders, st.InviteKey, now); err != nil {
			return fmt.Errorf("survey: save settings: %w", err)
		}
		return s.audit.Append(ctx, tx, audit.Event(p, "survey.settings", "institution", fmt.Sprint(st.InstitutionID), st.InstitutionID))
	})
}
