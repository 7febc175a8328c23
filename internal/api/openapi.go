package api

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"strconv"
	"strings"
)

type obj = map[string]any

// operation describes a route for the OpenAPI document.
type operation struct {
	ID          string
	Summary     string
	Description string
	Params      []param
	Body        string         // component schema of the JSON request body; "" means none
	Schema      string         // component schema of the success body; "" means a free-form object
	Status      int            // success status; 0 means 200
	Also        map[int]string // further success statuses and their body schemas
	Errors      []int          // problem statuses besides 401 (token routes) and 500
}

// successStatus is the status a route answers with when it succeeds.
func (o operation) successStatus() int {
	if o.Status == 0 {
		return http.StatusOK
	}
	return o.Status
}

type param struct {
	Name        string
	In          string // "path" or "query"
	Description string
	Required    bool
	Schema      obj
}

func ref(kind, name string) obj { return obj{"$ref": "#/components/" + kind + "/" + name} }

var problemResponses = map[int]string{
	400: "the request is invalid; errors names the offending parameters or body fields (as JSON paths)",
	401: "no valid API token (WWW-Authenticate: Bearer)",
	403: "the token may not do this (e.g. correct a record someone else made)",
	404: "not found, or outside the token's institution",
	409: "the resource's state forbids it (task claimed by a person, task already closed, …)",
	413: "the request body is too large",
	415: "the request body must be JSON (Content-Type: application/json)",
	500: "internal error; detail carries the request id",
	503: "the service behind this route is unavailable",
}

// openAPIDocument builds the OpenAPI 3.1 document from the route table.
func openAPIDocument(table []route, version string) []byte {
	if version == "" {
		version = "dev"
	}
	responses := obj{}
	for status, desc := range problemResponses {
		responses["Problem"+strconv.Itoa(status)] = obj{
			"description": desc,
			"content":     obj{"application/problem+json": obj{"schema": ref("schemas", "Problem")}},
		}
	}
	paths := obj{}
	for _, rt := range table {
		item, _ := paths[rt.Path].(obj)
		if item == nil {
			item = obj{}
			paths[rt.Path] = item
		}
		item[strings.ToLower(rt.Method)] = operationObject(rt)
	}
	doc := obj{
		"openapi": "3.1.0",
		"info": obj{
			"title":       "Suifang API",
			"version":     version,
			"description": "Follow-up platform API for integrations. Authenticate with an API token: `Authorization: Bearer sft_…`. Errors are RFC 9457 problems with a stable `code`; invalid input is always 400.",
		},
		"servers":  []obj{{"url": "/"}},
		"security": []obj{{"bearerAuth": []string{}}},
		"paths":    paths,
		"components": obj{
			"securitySchemes": obj{"bearerAuth": obj{
				"type": "http", "scheme": "bearer", "bearerFormat": "sft_ API token",
				"description": "An API token created by an administrator; it sees exactly one institution.",
			}},
			"schemas":   schemas(),
			"responses": responses,
		},
	}
	b, err := json.Marshal(doc)
	if err != nil {
		panic(fmt.Sprintf("api: openapi document: %v", err)) // only maps, strings and numbers: cannot fail
	}
	return b
}

func operationObject(rt route) obj {
	success := func(status int, schema string) obj {
		body := obj{"type": "object"}
		if schema != "" {
			body = ref("schemas", schema)
		}
		return obj{"description": http.StatusText(status), "content": obj{"application/json": obj{"schema": body}}}
	}
	resp := obj{
		strconv.Itoa(rt.Op.successStatus()): success(rt.Op.successStatus(), rt.Op.Schema),
		"500":                               ref("responses", "Problem500"),
	}
	for st, schema := range rt.Op.Also {
		resp[strconv.Itoa(st)] = success(st, schema)
	}
	if !rt.Public {
		resp["401"] = ref("responses", "Problem401")
	}
	for _, st := range rt.Op.Errors {
		resp[strconv.Itoa(st)] = ref("responses", "Problem"+strconv.Itoa(st))
	}
	op := obj{"operationId": rt.Op.ID, "summary": rt.Op.Summary, "responses": resp}
	if rt.Op.Description != "" {
		op["description"] = rt.Op.Description
	}
	if rt.Op.Body != "" {
		op["requestBody"] = obj{"required": true,
			"content": obj{"application/json": obj{"schema": ref("schemas", rt.Op.Body)}}}
	}
	if rt.Public {
		op["security"] = []obj{}
	}
	if len(rt.Op.Params) > 0 {
		var ps []obj
		for _, p := range rt.Op.Params {
			po := obj{"name": p.Name, "in": p.In, "required": p.Required, "schema": p.Schema}
			if p.Description != "" {
				po["description"] = p.Description
			}
			ps = append(ps, po)
		}
		op["parameters"] = ps
	}
	return op
}

func schemas() obj {
	all := baseSchemas()
	maps.Copy(all, coreSchemas())
	maps.Copy(all, patientSchemas())
	maps.Copy(all, complaintSchemas())
	maps.Copy(all, abnormalSchemas())
	maps.Copy(all, reportSchemas())
	return all
}

func baseSchemas() obj {
	id := obj{"type": "integer", "format": "int64"}
	str := obj{"type": "string"}
	date := obj{"type": "string", "format": "date"}
	return obj{
		"Problem": obj{
			"type":        "object",
			"description": "RFC 9457 problem details",
			"required":    []string{"type", "title", "status", "code"},
			"properties": obj{
				"type":       obj{"type": "string", "format": "uri-reference", "description": problemBase + "<code>"},
				"title":      str,
				"status":     obj{"type": "integer"},
				"detail":     str,
				"code":       obj{"type": "string", "description": "stable machine-readable reason"},
				"errors":     obj{"type": "object", "additionalProperties": str, "description": "field or parameter name → code"},
				"request_id": str,
			},
		},
		"Me": obj{
			"type":     "object",
			"required": []string{"name", "institution_id", "roles"},
			"properties": obj{
				"name":           str,
				"institution_id": id,
				"roles":          obj{"type": "array", "items": str},
			},
		},
		"Institution": obj{
			"type":     "object",
			"required": []string{"id", "code", "name", "kind", "timezone", "service_hours"},
			"properties": obj{
				"id":            id,
				"code":          str,
				"name":          str,
				"kind":          obj{"type": "string", "enum": []string{"group", "hospital", "clinic"}},
				"timezone":      obj{"type": "string", "description": "IANA time zone, e.g. Asia/Shanghai"},
				"service_hours": obj{"type": "string", "pattern": `^\d\d:\d\d-\d\d:\d\d$`, "examples": []string{"08:00-17:30"}},
			},
		},
		"Department": obj{
			"type":     "object",
			"required": []string{"id", "code", "name", "kind", "parent_id", "active"},
			"properties": obj{
				"id":        id,
				"code":      str,
				"name":      str,
				"kind":      obj{"type": "string", "enum": []string{"clinical", "ward", "office"}},
				"parent_id": obj{"type": []string{"integer", "null"}, "format": "int64"},
				"active":    obj{"type": "boolean"},
			},
		},
		"DepartmentPage": obj{
			"type":     "object",
			"required": []string{"items", "next_cursor"},
			"properties": obj{
				"items":       obj{"type": "array", "items": ref("schemas", "Department")},
				"next_cursor": obj{"type": []string{"string", "null"}, "description": "pass as ?cursor= for the next page; null on the last page"},
			},
		},
		"Workdays": obj{
			"type":     "object",
			"required": []string{"from", "n", "date"},
			"properties": obj{
				"from": date,
				"n":    obj{"type": "integer"},
				"date": date,
			},
		},
		"Day": obj{
			"type":     "object",
			"required": []string{"date", "working_day"},
			"properties": obj{
				"date":        date,
				"working_day": obj{"type": "boolean"},
			},
		},
	}
}
