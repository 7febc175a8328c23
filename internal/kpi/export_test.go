package kpi

// Stored are the other rooms' stored values the definitions read, for the
// test that pins them against their rooms.
var Stored = map[string]string{
	"discharged": encDischarged, "inpatient": encInpatient, "died": outcomeDied, "done": taskDone,
	"unreachable": taskUnreach, "cancelled": taskCancelled, "refused": reasonRefused,
	"satisfied": satSatisfied, "basically": satBasically, "dissatisfied": satDissatisf,
}

// DiagnosisText is the ledger's diagnosis column, for its fuzz test.
var DiagnosisText = diagnosisText
