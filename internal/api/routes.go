package api

import (
	"net/http"
	"slices"

	"suifang/internal/access"
)

// route is one endpoint: the ServeMux pattern parts, whether it needs a
// token, its OpenAPI description and its handler. The handler's value is
// written as JSON with status 200 (a statusBody chooses another); its error
// as a problem.
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

	pathVisit = param{Name: "visit_number", In: "path", Required: true, Description: "the HIS visit number (住院流水号)",
		Schema: obj{"type": "string", "minLength": 1, "maxLength": 64}}
	pathTask = param{Name: "id", In: "path", Required: true, Description: "follow-up task id",
		Schema: obj{"type": "integer", "format": "int64", "minimum": 1}}
	queryTab = param{Name: "tab", In: "query", Description: "worklist view; mine is always empty for API tokens",
		Schema: obj{"type": "string", "enum": []string{"today", "overdue", "upcoming", "mine", "done"}, "default": "today"}}
	queryLevel = param{Name: "level", In: "query", Description: "follow-up level (1 nurse, 2 doctor, 3 service centre)",
		Schema: obj{"type": "integer", "minimum": 0, "maximum": 9}}
	queryDept = param{Name: "department_id", In: "query", Description: "only this department's or ward's tasks",
		Schema: obj{"type": "integer", "format": "int64", "minimum": 1}}
	queryChannel = param{Name: "channel", In: "query", Description: "only tasks planned for this channel",
		Schema: obj{"type": "string", "enum": channelEnum()}}
	queryRole = param{Name: "role", In: "query", Description: "only steps for this role",
		Schema: obj{"type": "string", "enum": []string{"nurse", "doctor", "agent", "third_party"}}}
)

// bodyErrors are the problem statuses of the task and cancel routes that read a body.
var bodyErrors = []int{400, 404, 409, 413, 415, 503}

// routes is the whole API. The OpenAPI document is generated from it and a
// test checks the two agree in both directions.
func routes() []route {
	return append([]route{
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

		{Method: "POST", Path: "/api/v1/encounters", handle: (*server).postEncounters,
			Op: operation{ID: "postEncounters", Summary: "Create or update encounters from HIS events",
				Description: "An object is one event: 201 when it created the encounter, 200 otherwise, or a problem naming the field at fault. " +
					"An array (1 to 1000 events) is a bulk upload: 200 with one result per item, each stored in its own transaction. " +
					"Re-sending an event changes nothing (the visit number is the idempotency key).",
				Body: "EncounterRequest", Schema: "EncounterResponse", Also: map[int]string{201: "EncounterResult"},
				Errors: []int{400, 404, 413, 415, 503}}},
		{Method: "GET", Path: "/api/v1/encounters/{visit_number}", handle: (*server).getEncounter,
			Op: operation{ID: "getEncounter", Summary: "An encounter with its masked patient and its follow-up tasks",
				Params: []param{pathVisit}, Schema: "Encounter", Errors: []int{404, 503}}},
		{Method: "POST", Path: "/api/v1/encounters/{visit_number}/cancel", handle: (*server).cancelEncounter,
			Op: operation{ID: "cancelEncounter", Summary: "Cancel an encounter's discharge or admission; its open tasks are cancelled",
				Params: []param{pathVisit}, Body: "CancelRequest", Schema: "EncounterResult", Errors: bodyErrors}},
		{Method: "GET", Path: "/api/v1/tasks", handle: (*server).listTasks,
			Op: operation{ID: "listTasks", Summary: "The worklist of the token's institution, most urgent first, with counts per tab",
				Params: []param{queryTab, queryLevel, queryDept, queryChannel, queryRole, queryLimit, queryCursor},
				Schema: "TaskPage", Errors: []int{400, 503}}},
		{Method: "GET", Path: "/api/v1/tasks/{id}", handle: (*server).getTask,
			Op: operation{ID: "getTask", Summary: "One follow-up task", Params: []param{pathTask}, Schema: "Task", Errors: []int{404, 503}}},
		{Method: "POST", Path: "/api/v1/tasks/{id}/claim", handle: (*server).claimTask,
			Op: operation{ID: "claimTask", Summary: "Reserve a task for the caller (people only)",
				Description: "A claim reserves a task for a person for 30 minutes. API tokens act for the whole institution and hold no claims: " +
					"for them this answers 409 integration_cannot_claim. They log attempts and complete tasks without claiming; " +
					"a task a person currently holds answers 409 task_claimed.",
				Params: []param{pathTask}, Schema: "Task", Errors: []int{404, 409, 503}}},
		{Method: "POST", Path: "/api/v1/tasks/{id}/attempts", handle: (*server).postAttempt,
			Op: operation{ID: "postAttempt", Summary: "Log a contact attempt; no answer or busy retries the next working day",
				Params: []param{pathTask}, Body: "AttemptRequest", Schema: "AttemptResult", Errors: bodyErrors}},
		{Method: "POST", Path: "/api/v1/tasks/{id}/complete", handle: (*server).completeTask,
			Op: operation{ID: "completeTask", Summary: "Record a reached follow-up: the task is done and the record numbered and hash-chained",
				Params: []param{pathTask}, Body: "RecordRequest", Schema: "RecordCreated", Status: 201, Errors: bodyErrors}},
		{Method: "GET", Path: "/api/v1/records", handle: (*server).listRecords,
			Op: operation{ID: "listRecords", Summary: "Follow-up records: a task's (oldest first) or the institution's, filtered (newest first)",
				Description: "With task_id the answer is a RecordList of that task's records and amendments. Without it the answer is a " +
					"RecordPage of the institution's records, newest first, narrowed by the other parameters.",
				Params: []param{queryTaskOpt, queryDept, queryRecFrom, queryRecTo, querySatisfaction, queryLevel, queryNumber, queryLimit, queryCursor},
				Schema: "RecordListing", Errors: []int{400, 404, 503}}},
	}, slices.Concat(patientRoutes(), complaintRoutes(), abnormalRoutes(), reportRoutes())...)
}
