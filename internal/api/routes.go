package api

import (
	"net/http"

	"suifang/internal/access"
)

// route is one endpoint: the ServeMux pattern parts, whether it needs a
// token, its OpenAPI description and its handler. The handler's value is
// written as JSON with status 200; its error as a problem.
type route struct {
	Method string
	Path   string // ServeMux and OpenAPI path template (same {name} syntax)
	Public bool   // served without a token
	Op     operation
	handle func(s *server, r *http.Request, p *access.Principal) (any, error)
}

// Shared parameter descriptions.
var (
	pathID = param{Name: "id", In: "path", Required: true, Description: "department id",
		Schema: obj{"type": "integer", "format": "int64", "minimum": 1}}
	pathDate = param{Name: "date", In: "path", Required: true, Description: "local date",
		Schema: obj{"type": "string", "format": "date"}}
	queryLimit = param{Name: "limit", In: "query", Description: "page size",
		Schema: obj{"type": "integer", "minimum": 1, "maximum": maxLimit, "default": defaultLimit}}
	queryCursor = param{Name: "cursor", In: "query", Description: "next_cursor of the previous page (opaque)",
		Schema: obj{"type": "string"}}
	queryFrom = param{Name: "from", In: "query", Required: true, Description: "start date; it never counts itself",
		Schema: obj{"type": "string", "format": "date"}}
	queryN = param{Name: "n", In: "query", Required: true, Description: "number of working days to add",
		Schema: obj{"type": "integer", "minimum": minWorkdays, "maximum": maxWorkdays}}
)

// routes is the whole API. The OpenAPI document is generated from it and a
// test checks the two agree in both directions.
func routes() []route {
	return []route{
		{Method: "GET", Path: "/api/v1/openapi.json", Public: true, handle: (*server).getOpenAPI,
			Op: operation{ID: "getOpenAPI", Summary: "This OpenAPI document", Schema: ""}},
		{Method: "GET", Path: "/api/v1/me", handle: (*server).getMe,
			Op: operation{ID: "getMe", Summary: "The calling token's principal", Schema: "Me"}},
		{Method: "GET", Path: "/api/v1/institution", handle: (*server).getInstitution,
			Op: operation{ID: "getInstitution", Summary: "The token's institution", Schema: "Institution"}},
		{Method: "GET", Path: "/api/v1/departments", handle: (*server).listDepartments,
			Op: operation{ID: "listDepartments", Summary: "Departments and wards of the token's institution, by id",
				Params: []param{queryLimit, queryCursor}, Schema: "DepartmentPage", Errors: []int{400}}},
		{Method: "GET", Path: "/api/v1/departments/{id}", handle: (*server).getDepartment,
			Op: operation{ID: "getDepartment", Summary: "One department of the token's institution",
				Params: []param{pathID}, Schema: "Department", Errors: []int{404}}},
		{Method: "GET", Path: "/api/v1/calendar/workdays", handle: (*server).addWorkdays,
			Op: operation{ID: "addWorkdays", Summary: "The date n working days after from (counting starts the day after)",
				Params: []param{queryFrom, queryN}, Schema: "Workdays", Errors: []int{400, 503}}},
		{Method: "GET", Path: "/api/v1/calendar/days/{date}", handle: (*server).getDay,
			Op: operation{ID: "getDay", Summary: "Whether a date is a working day of the token's institution",
				Params: []param{pathDate}, Schema: "Day", Errors: []int{400, 503}}},
	}
}
