package adapter

// Roles of callers, as their tokens state them.
const (
	RolePractice     = "practice"
	RoleLinkWorker   = "link-worker"
	RoleProvider     = "provider"
	RoleCommissioner = "commissioner"
	RoleAdmin        = "admin"
)

// Caller is who acts through the API, as its token says: the one actor
// every application service takes. Actor is what a Task's history records
// of it.
type Caller struct {
	Actor
	// Person is the acting person's FHIR reference in normal form (the
	// token's fhirUser, e.g. "Practitioner/123"); "" for a system, or a
	// token that names nobody.
	Person string
	// Name and Title are a person's display name and job title: the named
	// contact of a referral they hold, the source of a referral they make.
	Name, Title string
}
