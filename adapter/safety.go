package adapter

// SafetyKind is why a referral must not wait in a social prescribing queue.
type SafetyKind string

// Safety kinds, each also a Task.businessStatus code.
const (
	// SafetyClinicalRedirect: the person needs clinical care first (crisis,
	// recent self-harm, suicidal ideation).
	SafetyClinicalRedirect SafetyKind = BSClinicalRedir
	// SafetyOutOfRemit: the need is outside social prescribing (severe
	// mental illness, acute psychosis) and belongs to a specialist service.
	SafetyOutOfRemit SafetyKind = BSOutOfRemit
)

// SafetyFinding is the result of screening a referral: which screen matched,
// what kind it is, and the pathway to suggest to the referrer in plain
// words. A zero finding means no screen matched.
type SafetyFinding struct {
	Screen  string
	Kind    SafetyKind
	Pathway string
	Coding  Coding // the coding that matched
}

// Matched reports whether a screen matched.
func (f SafetyFinding) Matched() bool { return f.Kind != "" }
