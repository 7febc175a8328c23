// Package notify is the outbox: every outgoing message (SMS, WeChat template
// message, e-mail, webhook) is a row written in the same transaction as the
// business change that caused it, then delivered by a worker.
//
// This file is the contract other rooms code against; the service, the
// worker and the providers live beside it.
package notify

import "time"

// Channels a message can go out on.
const (
	SMS     = "sms"
	WeChat  = "wechat"
	Email   = "email"
	Webhook = "webhook"
	InApp   = "inapp" // staff notification shown in the UI; never leaves the server
)

// Message is one outgoing message as a room hands it to the outbox.
// The outbox renders Template with Params through the institution's
// template for Channel, so callers never build message text themselves
// (which is how the no-diagnosis rule is enforced in one place).
type Message struct {
	InstitutionID int64
	Channel       string
	// Template is the template key, e.g. "survey.invite", "notice.escalate".
	Template string
	// To is the recipient: a phone number, a WeChat openid, an e-mail
	// address, or for InApp a staff user id in decimal. Sealed at rest.
	To     string
	Params map[string]string
	// IdempotencyKey makes Enqueue a no-op when a message with the same key
	// exists, so a retried business change never queues twice. Required.
	IdempotencyKey string
	// Patient marks a patient-facing message: it obeys quiet hours.
	Patient bool
	// NotBefore delays delivery; zero means as soon as allowed.
	NotBefore time.Time
	// Ref names the business object, e.g. "survey_invitation:42", for the
	// admin list and for cancelling.
	Ref string
}
