package complaint

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"suifang/internal/access"
	"suifang/internal/audit"
	"suifang/internal/errs"
	"suifang/internal/store"
)

// Category is one of an institution's complaint categories. The code is
// what complaints and policies store; the names are what people read.
type Category struct {
	ID     int64 // 0: a built-in default not yet copied to the institution
	Code   string
	NameZh string
	NameEn string
	Sort   int
	Active bool
	Used   int // complaints filed under it (admin page only)
}

// Name is the category's name in lang (zh-CN unless "en" and an English
// name exists).
func (c Category) Name(lang string) string {
	if lang == "en" && c.NameEn != "" {
		return c.NameEn
	}
	return c.NameZh
}

// DefaultCategories are the seven built-in categories an institution
// starts with (requirements §5).
func DefaultCategories() []Category {
	zh := []string{"医疗质量", "服务态度", "环境卫生", "费用", "流程", "医德医风", "其他"}
	en := []string{"Medical quality", "Service attitude", "Environment and hygiene", "Fees", "Process", "Medical ethics", "Other"}
	out := make([]Category, len(categories))
	for i, code := range categories {
		out[i] = Category{Code: code, NameZh: zh[i], NameEn: en[i], Sort: (i + 1) * 10, Active: true}
	}
	return out
}

// catchAll is the category a complaint gets when nobody chose one (the
// public form); it can be renamed but never deactivated.
const catchAll = "other"

// CategorySet is an institution's categories in display order.
type CategorySet []Category

// Name shows code in lang: the category's name, else the built-in name,
// else the code itself (a category removed by hand from the database).
func (cs CategorySet) Name(lang, code string) string {
	for _, c := range cs {
		if c.Code == code {
			return c.Name(lang)
		}
	}
	for _, c := range DefaultCategories() {
		if c.Code == code {
			return c.Name(lang)
		}
	}
	return code
}

// Offered lists the categories a form offers: the active ones, plus
// current when it is inactive (a complaint keeps its category when it is
// reclassified on another axis).
func (cs CategorySet) Offered(current string) []Category {
	var out []Category
	for _, c := range cs {
		if c.Active || c.Code == current {
			out = append(out, c)
		}
	}
	return out
}

// Codes lists every code, active or not (policies may match any).
func (cs CategorySet) Codes() []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Code
	}
	return out
}

// Categories returns institution inst's categories in display order: its
// own, or the built-in ones while it has none. It checks no scope: the
// names are shown on pages whose services checked theirs.
func (s *Service) Categories(ctx context.Context, inst int64) (CategorySet, error) {
	return s.categories(ctx, s.db.R(), inst)
}

func (s *Service) categories(ctx context.Context, q store.Querier, inst int64) (CategorySet, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, code, name_zh, name_en, sort, active FROM complaint_categories
		WHERE institution_id = $1 ORDER BY sort, id`, inst)
	if err != nil {
		return nil, fmt.Errorf("complaint: categories: %w", err)
	}
	defer rows.Close()
	var out CategorySet
	for rows.Next() {
		var c Category
		if err := rows.Scan(&c.ID, &c.Code, &c.NameZh, &c.NameEn, &c.Sort, &c.Active); err != nil {
			return nil, fmt.Errorf("complaint: categories: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("complaint: categories: %w", err)
	}
	if len(out) == 0 {
		return DefaultCategories(), nil
	}
	return out, nil
}

// checkCategory accepts an active category of inst, or keep (the
// complaint's category as stored) even when it has been deactivated since.
func (s *Service) checkCategory(ctx context.Context, q store.Querier, inst int64, code, keep string) error {
	if code != "" && code == keep {
		return nil
	}
	cs, err := s.categories(ctx, q, inst)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(cs, func(c Category) bool { return c.Code == code && c.Active }) {
		return errs.Field("category", "bad_category", "choose a category")
	}
	return nil
}

// canAdmin: quality of the institution or an administrator edits its
// categories and SLA policies.
func canAdmin(p *access.Principal, inst int64) bool {
	return p != nil && (p.IsAdmin() || p.Has(access.Quality) && p.SeesInstitution(inst))
}

func requireAdmin(p *access.Principal, inst int64) error {
	if !canAdmin(p, inst) {
		return errs.New(errs.Forbidden, "complaint_admin_forbidden", "only quality or an administrator may change complaint settings")
	}
	return nil
}

// CategoryAdmin is the categories page: every category with its use count.
type CategoryAdmin struct {
	Categories CategorySet
	Defaults   bool // the institution still uses the built-in set
	CanEdit    bool
}

// CategoriesAdmin returns inst's categories with how often each is used,
// for anyone who touches the institution; CanEdit says whether p may
// change them.
func (s *Service) CategoriesAdmin(ctx context.Context, p *access.Principal, inst int64) (*CategoryAdmin, error) {
	if !p.TouchesInstitution(inst) {
		return nil, errs.New(errs.Forbidden, "out_of_scope", "this institution is outside your data scope")
	}
	cs, err := s.categories(ctx, s.db.R(), inst)
	if err != nil {
		return nil, err
	}
	used, err := s.categoryUse(ctx, s.db.R(), inst)
	if err != nil {
		return nil, err
	}
	for i := range cs {
		cs[i].Used = used[cs[i].Code]
	}
	return &CategoryAdmin{Categories: cs, Defaults: len(cs) == 0 || cs[0].ID == 0, CanEdit: canAdmin(p, inst)}, nil
}

func (s *Service) categoryUse(ctx context.Context, q store.Querier, inst int64) (map[string]int, error) {
	rows, err := q.QueryContext(ctx, `SELECT category, COUNT(*) FROM complaints WHERE institution_id = $1 GROUP BY category`, inst)
	if err != nil {
		return nil, fmt.Errorf("complaint: category use: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var code string
		var n int
		if err := rows.Scan(&code, &n); err != nil {
			return nil, fmt.Errorf("complaint: category use: %w", err)
		}
		out[code] = n
	}
	return out, rows.Err()
}

// CategoryInput is a new or changed category. An empty Code on a new one
// is generated from the order it was added in.
type CategoryInput struct {
	Code   string
	NameZh string
	NameEn string
	Sort   int
	Active bool
}

var categoryCodeRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)

func (in *CategoryInput) normalize() error {
	in.Code, in.NameZh, in.NameEn = strings.TrimSpace(in.Code), strings.TrimSpace(in.NameZh), strings.TrimSpace(in.NameEn)
	switch {
	case in.Code != "" && !categoryCodeRE.MatchString(in.Code):
		return errs.Field("code", "bad_category_code", "a code is 1–32 lower-case letters, digits or _, starting with a letter")
	case in.NameZh == "" || utf8.RuneCountInString(in.NameZh) > 32:
		return errs.Field("name_zh", "bad_category_name", "give the Chinese name (at most 32 characters)")
	case utf8.RuneCountInString(in.NameEn) > 64:
		return errs.Field("name_en", "category_name_en_too_long", "at most 64 characters")
	case in.Sort < 0 || in.Sort > 9999:
		return errs.Field("sort", "bad_sort", "the order is a number from 0 to 9999")
	}
	return nil
}

// materializeCategories copies the built-in categories to inst the first
// time it edits them, so from then on its rows are the whole list.
func (s *Service) materializeCategories(ctx context.Context, tx *sql.Tx, inst int64) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM complaint_categories WHERE institution_id = $1`, inst).Scan(&n); err != nil {
		return fmt.Errorf("complaint: categories: %w", err)
	}
	if n > 0 {
		return nil
	}
	now := store.Micros(s.now())
	for _, c := range DefaultCategories() {
		// Two first edits at once copy the same rows: the second skips them.
		if _, err := tx.ExecContext(ctx, `INSERT INTO complaint_categories (institution_id, code, name_zh, name_en, sort, active, updated_at)
			VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT (institution_id, code) DO NOTHING`, inst, c.Code, c.NameZh, c.NameEn, c.Sort, true, now); err != nil {
			return fmt.Errorf("complaint: copy categories: %w", err)
		}
	}
	return nil
}

// AddCategory adds a category to inst (quality or an administrator),
// copying the built-in set first when the institution has none of its own.
func (s *Service) AddCategory(ctx context.Context, p *access.Principal, inst int64, in CategoryInput) (string, error) {
	if err := requireAdmin(p, inst); err != nil {
		return "", err
	}
	in.Active = true
	if err := in.normalize(); err != nil {
		return "", err
	}
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		if err := s.materializeCategories(ctx, tx, inst); err != nil {
			return err
		}
		var count, last int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(MAX(sort), 0) FROM complaint_categories WHERE institution_id = $1`,
			inst).Scan(&count, &last); err != nil {
			return fmt.Errorf("complaint: add category: %w", err)
		}
		if count >= 100 {
			return errs.Field("name_zh", "too_many_categories", "at most 100 categories")
		}
		if in.Code == "" {
			// A readable code the institution never used before.
			for i := count + 1; ; i++ {
				code := fmt.Sprintf("custom_%d", i)
				var n int
				if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM complaint_categories WHERE institution_id = $1 AND code = $2`,
					inst, code).Scan(&n); err != nil {
					return fmt.Errorf("complaint: add category: %w", err)
				}
				if n == 0 {
					in.Code = code
					break
				}
			}
		}
		if in.Sort == 0 {
			in.Sort = last + 10
		}
		var dup int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM complaint_categories WHERE institution_id = $1 AND name_zh = $2`,
			inst, in.NameZh).Scan(&dup); err != nil {
			return fmt.Errorf("complaint: add category: %w", err)
		}
		if dup > 0 {
			return errs.Field("name_zh", "category_name_taken", "a category with this name exists")
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO complaint_categories (institution_id, code, name_zh, name_en, sort, active, updated_at)
			VALUES ($1,$2,$3,$4,$5,$6,$7)`, inst, in.Code, in.NameZh, in.NameEn, in.Sort, true, store.Micros(s.now()))
		if store.IsUniqueViolation(err) {
			return errs.Field("code", "category_code_taken", "a category with this code exists")
		}
		if err != nil {
			return fmt.Errorf("complaint: add category: %w", err)
		}
		e := audit.Event(p, "complaint.category_add", "complaint_category", in.Code, inst)
		e.Detail = fmt.Sprintf("name_zh=%s name_en=%s sort=%d", in.NameZh, in.NameEn, in.Sort)
		return s.audit.Append(ctx, tx, e)
	})
	return in.Code, err
}

// UpdateCategory renames, reorders, deactivates or reactivates category
// code of inst. The code never changes, so complaints and policies that
// name it keep their meaning; a category is never deleted.
func (s *Service) UpdateCategory(ctx context.Context, p *access.Principal, inst int64, code string, in CategoryInput) error {
	if err := requireAdmin(p, inst); err != nil {
		return err
	}
	in.Code = ""
	if err := in.normalize(); err != nil {
		return err
	}
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		if err := s.materializeCategories(ctx, tx, inst); err != nil {
			return err
		}
		var dup int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM complaint_categories WHERE institution_id = $1 AND name_zh = $2 AND code <> $3`,
			inst, in.NameZh, code).Scan(&dup); err != nil {
			return fmt.Errorf("complaint: update category: %w", err)
		}
		if dup > 0 {
			return errs.Field("name_zh", "category_name_taken", "a category with this name exists")
		}
		if !in.Active && code == catchAll {
			return errs.Field("active", "catch_all_category", "其他 stays active: the public form and unclassified complaints use it")
		}
		if !in.Active {
			var active int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM complaint_categories WHERE institution_id = $1 AND active = $2 AND code <> $3`,
				inst, true, code).Scan(&active); err != nil {
				return fmt.Errorf("complaint: update category: %w", err)
			}
			if active == 0 {
				return errs.Field("active", "last_category", "keep at least one category active")
			}
		}
		r, err := tx.ExecContext(ctx, `UPDATE complaint_categories SET name_zh = $1, name_en = $2, sort = $3, active = $4, updated_at = $5
			WHERE institution_id = $6 AND code = $7`, in.NameZh, in.NameEn, in.Sort, in.Active, store.Micros(s.now()), inst, code)
		if err != nil {
			return fmt.Errorf("complaint: update category: %w", err)
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return errs.New(errs.NotFound, "category_not_found", "no such category")
		}
		e := audit.Event(p, "complaint.category_update", "complaint_category", code, inst)
		e.Detail = fmt.Sprintf("name_zh=%s name_en=%s sort=%d active=%t", in.NameZh, in.NameEn, in.Sort, in.Active)
		return s.audit.Append(ctx, tx, e)
	})
}

// DeleteCategory removes a category nobody used: no complaint is filed
// under it and no policy matches it. A used one can only be deactivated.
func (s *Service) DeleteCategory(ctx context.Context, p *access.Principal, inst int64, code string) error {
	if err := requireAdmin(p, inst); err != nil {
		return err
	}
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		if err := s.materializeCategories(ctx, tx, inst); err != nil {
			return err
		}
		if code == catchAll {
			return errs.New(errs.Conflict, "catch_all_category", "其他 stays active: the public form and unclassified complaints use it")
		}
		var used int
		if err := tx.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM complaints WHERE institution_id = $1 AND category = $2)
			+ (SELECT COUNT(*) FROM complaint_policies WHERE institution_id = $1 AND category = $2)`, inst, code).Scan(&used); err != nil {
			return fmt.Errorf("complaint: delete category: %w", err)
		}
		if used > 0 {
			return errs.New(errs.Conflict, "category_in_use", "complaints or policies use this category: deactivate it instead")
		}
		var active int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM complaint_categories WHERE institution_id = $1 AND active = $2 AND code <> $3`,
			inst, true, code).Scan(&active); err != nil {
			return fmt.Errorf("complaint: delete category: %w", err)
		}
		if active == 0 {
			return errs.New(errs.Conflict, "last_category", "keep at least one category active")
		}
		r, err := tx.ExecContext(ctx, `DELETE FROM complaint_categories WHERE institution_id = $1 AND code = $2`, inst, code)
		if err != nil {
			return fmt.Errorf("complaint: delete category: %w", err)
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return errs.New(errs.NotFound, "category_not_found", "no such category")
		}
		return s.audit.Append(ctx, tx, audit.Event(p, "complaint.category_delete", "complaint_category", code, inst))
	})
}

// topicOf is the notice topic of a category; an institution's own
// categories go to the "other" route.
func topicOf(category string) string {
	if t, ok := noticeTopic[category]; ok {
		return t
	}
	return "other"
}
