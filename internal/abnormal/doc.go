// Package abnormal is abnormal reporting (异常上报): a suspected insurance
// fraud (疑似骗保), the first signs of a medical dispute (医疗纠纷苗头) or
// another patient-safety event, noticed on a follow-up call, in a complaint
// or anywhere else, is reported by whoever noticed it, told to leadership
// and quality at once, taken in charge by one of them and handled to a
// conclusion in a flow of its own, with an append-only, hash-chained
// history.
package abnormal
