// Package notify tells practice EHRs when the Tasks of their referrals
// change, through FHIR R4 topic-based Subscriptions (HL7 Subscriptions R5
// Backport IG, as the Gravity SDOH Clinical Care IG uses them): rest-hook
// channel, id-only payloads.
//
// A Task change is published to the store's notification stream. One
// dispatcher of the consumer group (whichever replica reads it) fans it
// out into one delivery per interested Subscription of the practice that
// sent the referral, and POSTs each a notification Bundle at once. A
// delivery that fails is retried with exponential backoff by the
// scheduled job notification-retry (RetryDue) and, after the last
// attempt, moved to the dead-letter list admins can read.
//
// Notifications carry ids only: the Subscription, the topic and the
// changed Task's reference. No resource body is ever sent, so no outcome
// or data the patient did not agree to share can travel in one; the
// receiver reads the Task through the API, where the usual access rules
// apply. Logs name subscriptions, practices and error codes, never Tasks,
// patients or response bodies.
//
// A new rest-hook Subscription starts requested; the dispatcher sends it a
// handshake notification and makes it active when the endpoint accepts
// it, or error when it does not (one attempt, as the Backport IG says).
// Heartbeats are not sent.
package notify
