package adapter

// Code systems the domain refers to by name.
const (
	SystemSNOMED    = "http://snomed.info/sct"
	SystemICD10     = "http://hl7.org/fhir/sid/icd-10"
	SystemODS       = "https://fhir.nhs.uk/Id/ods-organization-code"
	SystemNHSNumber = "https://fhir.nhs.uk/Id/nhs-number"
)

// Coding is a code from a code system.
type Coding struct {
	System  string `json:"system,omitempty"`
	Code    string `json:"code,omitempty"`
	Display string `json:"display,omitempty"`
}

// IsZero reports whether c carries no code.
func (c Coding) IsZero() bool { return c.System == "" && c.Code == "" }

// Same reports whether c and o name the same code (displays are ignored).
func (c Coding) Same(o Coding) bool { return c.System == o.System && c.Code == o.Code }

// Identifier is a business identifier: a system and a value.
type Identifier struct {
	System string `json:"system,omitempty"`
	Value  string `json:"value,omitempty"`
}

// IsZero reports whether the identifier is empty.
func (i Identifier) IsZero() bool { return i.System == "" && i.Value == "" }

// String renders the identifier as a FHIR token "system|value".
func (i Identifier) String() string { return i.System + "|" + i.Value }
