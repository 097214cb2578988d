// Package lifecycle is the link-worker and provider side of a referral: claim
// from a service's queue under a lease, renew it, move the referral through
// its lifecycle, refer on to a VCSE service, record outcomes, and the
// scheduled work that keeps queues honest (lease expiry, provider response
// deadlines). Who may touch which queue is decided here, from the caller's
// organisation and the service directory.
package lifecycle
