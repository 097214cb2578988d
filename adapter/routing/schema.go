package routing

import "github.com/social-prescribing/referral-adapter/adapter"

// fileDoc is the shape of one mappings YAML file. Every section is optional
// so a deployment can split its configuration across files.
type fileDoc struct {
	Network  *networkDoc  `yaml:"network"`
	Services []serviceDoc `yaml:"services"`
	RuleSet  string       `yaml:"ruleSet"`
	Rules    []ruleDoc    `yaml:"rules"`
	Safety   []screenDoc  `yaml:"safety"`
	// Practices is the practice → area table (issue 20).
	Practices []practiceDoc `yaml:"practices"`
}

type networkDoc struct {
	ID                string         `yaml:"id"`
	Name              string         `yaml:"name"`
	ODS               string         `yaml:"ods"`
	LinkWorker        string         `yaml:"linkWorkerService"`
	SharingAgreements []agreementDoc `yaml:"sharingAgreements"`
}

// agreementDoc is a data sharing agreement of the network: the policy URI
// a patient's Consent cites (Consent.policy.uri).
type agreementDoc struct {
	URI  string `yaml:"uri"`
	Name string `yaml:"name"`
}

type codingDoc struct {
	System  string `yaml:"system"`
	Code    string `yaml:"code"`
	Display string `yaml:"display"`
}

type serviceDoc struct {
	ID           string                 `yaml:"id"`
	Name         string                 `yaml:"name"`
	Kind         string                 `yaml:"kind"`
	ProvidedBy   adapter.Organization   `yaml:"providedBy"`
	Categories   []codingDoc            `yaml:"categories"`
	Types        []codingDoc            `yaml:"types"`
	Areas        []string               `yaml:"areas"`
	Eligibility  eligibilityDoc         `yaml:"eligibility"`
	ReferralMode string                 `yaml:"referralMode"`
	Contact      adapter.Contact        `yaml:"contact"`
	Hours        []adapter.OpeningHours `yaml:"hours"`
	MaxOpen      int                    `yaml:"maxOpen"`
	// SharingAgreement makes the service's provider a partner of the
	// network under one of the network's sharingAgreements.
	SharingAgreement string `yaml:"sharingAgreement"`
}

type eligibilityDoc struct {
	MinAge     int      `yaml:"minAge"`
	MaxAge     int      `yaml:"maxAge"`
	Languages  []string `yaml:"languages"`
	Exclusions []string `yaml:"exclusions"`
}

type ruleDoc struct {
	Name               string   `yaml:"name"`
	Description        string   `yaml:"description"`
	Match              matchDoc `yaml:"match"`
	Target             string   `yaml:"target"`
	Fallback           []string `yaml:"fallback"`
	Priority           string   `yaml:"priority"`
	FirstContactWithin string   `yaml:"firstContactWithin"`
	Need               string   `yaml:"need"`
}

type matchDoc struct {
	Code       []codingDoc `yaml:"code"`
	Category   []codingDoc `yaml:"category"`
	ReasonCode []codingDoc `yaml:"reasonCode"`
	Performer  []string    `yaml:"performer"`
}
