package fhir

import (
	"strconv"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// WellbeingScoreFrom reads the wellbeing score an outcome Observation
// records (issue 20): a measure of adapter.WellbeingMeasures by its code,
// status final, amended or corrected, a number (valueInteger or
// valueQuantity.value) and the Observation's own date: effectiveDateTime,
// effectiveInstant or effectivePeriod.start, else issued. Nil when it is
// not one, or lacks a value or a date (it is stored, but cannot be paired);
// a value outside the measure's range is an EVALUE.
func WellbeingScoreFrom(res *Resource) (*adapter.WellbeingScore, error) {
	o := res.Msg.GetObservation()
	if o == nil {
		return nil, nil
	}
	m, ok := adapter.MeasureOf(codings(o.GetCode()))
	if !ok {
		return nil, nil
	}
	switch codeString(o.GetStatus()) {
	case "final", "amended", "corrected":
	default:
		return nil, nil
	}
	var v float64
	at := "Observation.valueInteger"
	switch val := o.GetValue(); {
	case val.GetInteger() != nil:
		v = float64(val.GetInteger().GetValue())
	case val.GetQuantity().GetValue() != nil:
		f, err := strconv.ParseFloat(val.GetQuantity().GetValue().GetValue(), 64)
		if err != nil {
			return nil, adapter.Errorf(adapter.EVALUE, "the %s score is not a number", m.Key).At("Observation.valueQuantity.value")
		}
		v, at = f, "Observation.valueQuantity.value"
	default:
		return nil, nil
	}
	if v < m.Min || v > m.Max {
		return nil, adapter.Errorf(adapter.EVALUE, "a %s score is from %g to %g, not %g", m.Key, m.Min, m.Max, v).At(at)
	}
	var when time.Time
	switch e := o.GetEffective(); {
	case e.GetDateTime() != nil:
		when = dateTime(e.GetDateTime())
	case e.GetInstant() != nil:
		when = time.UnixMicro(e.GetInstant().GetValueUs()).UTC()
	case e.GetPeriod().GetStart() != nil:
		when = dateTime(e.GetPeriod().GetStart())
	case o.GetIssued() != nil:
		when = time.UnixMicro(o.GetIssued().GetValueUs()).UTC()
	default:
		return nil, nil
	}
	return &adapter.WellbeingScore{Measure: m.Key, Value: v, At: when}, nil
}
