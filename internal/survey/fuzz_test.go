package survey

import (
	"testing"
)

// FuzzImportFHIR feeds arbitrary bytes to the Questionnaire importer: it
// must never panic, and whatever it accepts and validates must export and
// import back to the same body.
func FuzzImportFHIR(f *testing.F) {
	for _, d := range Defaults() {
		data, err := ExportFHIR(&Version{VersionInfo: VersionInfo{Number: 1, Status: Published, Title: d.Title}, Key: d.Key, Purpose: d.Purpose, Body: d.Body})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"resourceType":"Questionnaire","item":[{"linkId":"a","type":"boolean"},{"linkId":"b","type":"text","enableWhen":[{"question":"a","operator":"=","answerBoolean":true}]}]}`))
	f.Add([]byte(`{"resourceType":"Questionnaire","item":[{"linkId":"a","type":"choice","answerOption":[{"valueInteger":1},{"valueString":"x"}]}]}`))
	f.Add([]byte(`{"resourceType":"Questionnaire","item":[{"linkId":"a","type":"choice","answerOption":[{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/ordinalValue","valueDecimal":1e300}],"valueCoding":{"code":"a"}}]}]}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		in, err := ImportFHIR(data)
		if err != nil {
			return
		}
		if in.Body.Validate() != nil {
			return
		}
		out, err := ExportFHIR(&Version{Key: "k", Body: in.Body})
		if err != nil {
			t.Fatal(err)
		}
		back, err := ImportFHIR(out)
		if err != nil {
			t.Fatalf("own export refused: %v\n%s", err, out)
		}
		if err := back.Body.Validate(); err != nil {
			t.Fatalf("own export invalid: %v", err)
		}
		again, _ := ExportFHIR(&Version{Key: "k", Body: back.Body})
		if string(again) != string(out) {
			t.Fatalf("round trip differs:\n%s\n---\n%s", out, again)
		}
	})
}

// FuzzCheck posts arbitrary answers to the inpatient questionnaire: Check
// never panics, and what it keeps passes a second check unchanged.
func FuzzCheck(f *testing.F) {
	f.Add("overall", "dissatisfied", "overall_why", "太吵", 4)
	f.Add("nps", "11", "gift", "yes", 3)
	f.Add("effect", "good\x1fbad", "when", "2026-02-31", -1)
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string, sec int) {
		b := Defaults()[0].Body
		a := Answers{k1: {v1}, k2: {v2, v1}}
		sec = sec%(len(b.Sections)+1) - 1
		clean, _ := b.Check(sec, a)
		again, problems := b.Check(sec, clean)
		for k, p := range problems {
			if p != "required" {
				t.Fatalf("clean answer %s=%q has problem %s", k, clean[k], p)
			}
		}
		if len(again) != len(clean) {
			t.Fatalf("second check changed the answers: %v → %v", clean, again)
		}
		b.Total(clean)
	})
}
