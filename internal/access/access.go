// Package access defines who a caller is (Principal), the roles Suifang knows
// and the data scope each principal may see. It is pure so every room can
// check scope in its service without importing the login machinery.
package access

import (
	"slices"

	"suifang/internal/errs"
)

// Role is a job in the hospital; permissions follow from roles.
type Role string

const (
	SysAdmin    Role = "sysadmin"    // 系统管理员
	Leadership  Role = "leadership"  // 院领导
	Quality     Role = "quality"     // 医务/质控
	Agent       Role = "agent"       // 客服/随访专员
	Nurse       Role = "nurse"       // 护士
	Doctor      Role = "doctor"      // 医生
	DeptHead    Role = "dept_head"   // 科主任/护士长
	ThirdParty  Role = "third_party" // 第三方随访机构
	Integration Role = "integration" // API token, never a person
)

// Roles lists the roles a person can hold, in display order.
func Roles() []Role {
	return []Role{SysAdmin, Leadership, Quality, Agent, Nurse, Doctor, DeptHead, ThirdParty}
}

// Valid reports whether r is a known person role.
func (r Role) Valid() bool { return slices.Contains(Roles(), r) }

// Grant is one entry of a data scope: a whole institution (DepartmentID 0) or
// one department of it.
type Grant struct {
	InstitutionID int64
	DepartmentID  int64
}

// Principal is the authenticated caller of a service method.
type Principal struct {
	UserID        int64
	Username      string
	Name          string
	InstitutionID int64 // home institution
	Roles         []Role
	Grants        []Grant
	IP            string
	// Global principals (system administrators) see every institution.
	Global bool
}

// Has reports whether p holds role r.
func (p *Principal) Has(r Role) bool { return p != nil && slices.Contains(p.Roles, r) }

// HasAny reports whether p holds any of rs.
func (p *Principal) HasAny(rs ...Role) bool {
	for _, r := range rs {
		if p.Has(r) {
			return true
		}
	}
	return false
}

// Agency reports whether p is an outside call centre (第三方/外包) and
// nothing more: the third_party role without any hospital role. Its reach
// is the follow-up tasks routed to the agency (steps whose role is
// third_party, or tasks assigned to the user) and the patients of its open
// tasks, never the hospital's complaints, notices or ID numbers.
func (p *Principal) Agency() bool {
	return p.Has(ThirdParty) && !p.HasAny(SysAdmin, Leadership, Quality, Agent, Nurse, Doctor, DeptHead, Integration)
}

// RequireStaff returns Forbidden for an agency principal: the action is for
// the hospital's own staff.
func (p *Principal) RequireStaff() error {
	if p.Agency() {
		return errs.New(errs.Forbidden, "agency_forbidden", "an outside agency may not do this")
	}
	return nil
}

// IsAdmin reports whether p administers the system.
func (p *Principal) IsAdmin() bool { return p.Has(SysAdmin) }

// SeesInstitution reports whether p may see institution-wide data of inst.
func (p *Principal) SeesInstitution(inst int64) bool {
	if p == nil {
		return false
	}
	if p.Global {
		return true
	}
	for _, g := range p.Grants {
		if g.InstitutionID == inst && g.DepartmentID == 0 {
			return true
		}
	}
	return false
}

// SeesDepartment reports whether p may see data of department dept of inst:
// either the whole institution or that department is granted.
func (p *Principal) SeesDepartment(inst, dept int64) bool {
	if p.SeesInstitution(inst) {
		return true
	}
	if p == nil {
		return false
	}
	for _, g := range p.Grants {
		if g.InstitutionID == inst && g.DepartmentID == dept {
			return true
		}
	}
	return false
}

// TouchesInstitution reports whether p sees anything at all in inst.
func (p *Principal) TouchesInstitution(inst int64) bool {
	if p.SeesInstitution(inst) {
		return true
	}
	if p == nil {
		return false
	}
	for _, g := range p.Grants {
		if g.InstitutionID == inst {
			return true
		}
	}
	return false
}

// Institutions returns the institutions p touches (nil for global principals,
// meaning "all").
func (p *Principal) Institutions() []int64 {
	if p == nil || p.Global {
		return nil
	}
	var out []int64
	for _, g := range p.Grants {
		if !slices.Contains(out, g.InstitutionID) {
			out = append(out, g.InstitutionID)
		}
	}
	return out
}

// RequireInstitution returns a Forbidden error unless p sees all of inst.
func (p *Principal) RequireInstitution(inst int64) error {
	if !p.SeesInstitution(inst) {
		return errs.New(errs.Forbidden, "out_of_scope", "this institution is outside your data scope")
	}
	return nil
}

// RequireDepartment returns a Forbidden error unless p sees dept.
func (p *Principal) RequireDepartment(inst, dept int64) error {
	if !p.SeesDepartment(inst, dept) {
		return errs.New(errs.Forbidden, "out_of_scope", "this department is outside your data scope")
	}
	return nil
}

// RequireAdmin returns Forbidden unless p is a system administrator.
func (p *Principal) RequireAdmin() error {
	if !p.IsAdmin() {
		return errs.New(errs.Forbidden, "admin_only", "only system administrators may do this")
	}
	return nil
}

// System is the principal for work the platform does itself (seeding,
// command-line administration by the machine's operator).
func System() *Principal {
	return &Principal{Username: "system", Name: "system", Roles: []Role{SysAdmin}, Global: true}
}
