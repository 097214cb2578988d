package adapter

import "time"

// OutcomeRecord is a recorded result of a referral (a wellbeing measure as FHIR
// Observation, an activity attended as Procedure, a goal as Goal), linked
// from Task.output, with the patient's decision on sharing it with the GP.
type OutcomeRecord struct {
	ID       string
	TaskID   string
	Type     string // Observation | Procedure | Goal
	Practice string // the referring practice (who may see it, if approved)
	Approved bool   // the patient approved sharing it with the GP
	Recorded time.Time
	By       string // token subject of who recorded it
	Org      string // ODS code of the organisation that recorded it
	// Effective is the outcome's own date (an Observation's effective time
	// or issued, a Procedure's performed time, a Goal's start or status
	// date); zero when it states none. Consent decisions compare it with a
	// provision's dataPeriod.
	Effective time.Time
	// Categories and SecurityLabels classify the content for consent
	// decisions (e.g. mental health); codes as recorded on the resource.
	Categories     []Coding
	SecurityLabels []Coding
	Codes          []Coding
	// Score is the wellbeing score an Observation records, nil for any
	// other outcome (issue 20): paired for the anonymous wellbeing counts.
	Score *WellbeingScore
}
