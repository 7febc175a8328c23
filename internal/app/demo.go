package app

import (
	"context"
	"fmt"

	"suifang/internal/access"
	"suifang/internal/auth"
	"suifang/internal/errs"
	"suifang/internal/org"
)

// DemoPassword is the password of every demo account. It is printed at start
// and meant only for trying Suifang out.
const DemoPassword = "Suifang@2026"

// DemoLogin is one account the demo creates, for the start-up banner.
type DemoLogin struct {
	Username string
	Role     access.Role
	Name     string
}

type demoDept struct {
	code, name, kind, parent string
}

// SeedDemo creates a demo hospital group — two hospitals, their departments
// and wards, and a staff account for every role — unless it exists already.
// Later issues extend it with patients and follow-ups.
func (a *App) SeedDemo(ctx context.Context) ([]DemoLogin, error) {
	sys := access.System()
	logins := []DemoLogin{
		{"admin", access.SysAdmin, "系统管理员"},
		{"leader", access.Leadership, "王院长"},
		{"quality", access.Quality, "李质控"},
		{"agent", access.Agent, "赵随访"},
		{"head", access.DeptHead, "陈主任"},
		{"doctor", access.Doctor, "刘医生"},
		{"nurse", access.Nurse, "周护士"},
		{"agency", access.ThirdParty, "孙专员（第三方）"},
	}
	if _, err := a.Org.InstitutionByCode(ctx, "DEMO"); err == nil {
		return logins, nil
	} else if !errs.Is(err, errs.NotFound) {
		return nil, err
	}
	group, err := a.Org.CreateInstitution(ctx, sys, org.InstitutionInput{Code: "DEMO", Name: "示范医疗集团", Kind: org.KindGroup})
	if err != nil {
		return nil, fmt.Errorf("demo: group: %w", err)
	}
	h1, err := a.Org.CreateInstitution(ctx, sys, org.InstitutionInput{Code: "H01", Name: "示范市第一人民医院", Kind: org.KindHospital, ParentID: group})
	if err != nil {
		return nil, fmt.Errorf("demo: hospital 1: %w", err)
	}
	h2, err := a.Org.CreateInstitution(ctx, sys, org.InstitutionInput{Code: "H02", Name: "示范市第二人民医院", Kind: org.KindHospital, ParentID: group})
	if err != nil {
		return nil, fmt.Errorf("demo: hospital 2: %w", err)
	}
	depts := map[string]int64{}
	add := func(inst int64, prefix string, list []demoDept) error {
		for _, d := range list {
			in := org.DepartmentInput{InstitutionID: inst, Code: d.code, Name: d.name, Kind: d.kind}
			if d.parent != "" {
				in.ParentID = depts[prefix+d.parent]
			}
			id, err := a.Org.CreateDepartment(ctx, sys, in)
			if err != nil {
				return fmt.Errorf("demo: department %s: %w", d.code, err)
			}
			depts[prefix+d.code] = id
		}
		return nil
	}
	if err := add(h1, "H01/", []demoDept{
		{"0301", "心血管内科", org.DeptClinical, ""},
		{"0301W1", "心血管内科一病区", org.DeptWard, "0301"},
		{"0402", "普通外科", org.DeptClinical, ""},
		{"0402W1", "普通外科病区", org.DeptWard, "0402"},
		{"0405", "骨科", org.DeptClinical, ""},
		{"0501", "妇产科", org.DeptClinical, ""},
		{"0601", "儿科", org.DeptClinical, ""},
		{"9001", "客户服务中心", org.DeptOffice, ""},
		{"9002", "医务科", org.DeptOffice, ""},
	}); err != nil {
		return nil, err
	}
	if err := add(h2, "H02/", []demoDept{
		{"0300", "内科", org.DeptClinical, ""},
		{"0400", "外科", org.DeptClinical, ""},
		{"1200", "口腔科", org.DeptClinical, ""},
		{"9001", "客户服务中心", org.DeptOffice, ""},
	}); err != nil {
		return nil, err
	}
	inst := access.Grant{InstitutionID: h1}
	cardio := access.Grant{InstitutionID: h1, DepartmentID: depts["H01/0301"]}
	cardioWard := access.Grant{InstitutionID: h1, DepartmentID: depts["H01/0301W1"]}
	scopes := map[string][]access.Grant{
		"admin":   {{InstitutionID: group}},
		"leader":  {{InstitutionID: group}},
		"quality": {inst},
		"agent":   {inst},
		"head":    {cardio, cardioWard},
		"doctor":  {cardio},
		"nurse":   {cardioWard},
		"agency":  {inst},
	}
	for _, l := range logins {
		home := h1
		if l.Role == access.SysAdmin || l.Role == access.Leadership {
			home = group
		}
		_, err := a.Auth.CreateUser(ctx, sys, auth.UserInput{Username: l.Username, DisplayName: l.Name, Password: DemoPassword,
			HomeInstitutionID: home, Roles: []access.Role{l.Role}, Grants: scopes[l.Username], Active: true})
		if err != nil {
			return nil, fmt.Errorf("demo: user %s: %w", l.Username, err)
		}
	}
	a.Log.Info("demo data created", "institutions", 3, "departments", len(depts), "users", len(logins))
	return logins, nil
}
