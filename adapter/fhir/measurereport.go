package fhir

import (
	"strconv"
	"time"

	dtpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/datatypes_go_proto"
	mrpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/measure_report_go_proto"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// Measure canonical and code systems for the capacity MeasureReports.
const (
	MeasureCapacity    = "https://social-prescribing.github.io/referral-adapter/Measure/social-prescribing-capacity"
	SystemMeasureGroup = "https://social-prescribing.github.io/referral-adapter/CodeSystem/capacity-measure"
	// SystemHealthcareServiceID identifies the service a MeasureReport is about.
	SystemHealthcareServiceID = "https://social-prescribing.github.io/referral-adapter/Id/healthcare-service"
	systemMeasurePopulation   = "http://terminology.hl7.org/CodeSystem/measure-population"
)

// MeasureGroup is one measure of a summary MeasureReport. Scored as the
// SANER IG scores capacity: a ratio with numerator and denominator for
// utilisation, a count for queue length, a duration for service time.
// Nil values are not shown (suppressed or not known).
type MeasureGroup struct {
	Code, Display          string
	Population             *int64 // initial-population (wellbeing: the referrals with a pair of scores)
	Numerator, Denominator *int64
	Score                  *float64
	Unit, UnitCode         string // e.g. "h" for hours, "1" for counts
	ScoreIsUpperBound      bool   // a histogram bucket bound ("<=")
}

// MeasureReportView is one service's summary over a period.
type MeasureReportView struct {
	ID        string
	Service   string // HealthcareService id (an identifier: R4 MeasureReport.subject cannot reference one)
	Reporter  string // ODS code of the organisation providing the service
	From, To  time.Time
	Generated time.Time
	Groups    []MeasureGroup
}

// MeasureReport renders a summary MeasureReport.
func (r *Renderer) MeasureReport(v MeasureReportView) ([]byte, error) {
	mr := &mrpb.MeasureReport{
		Id:         id(v.ID),
		Status:     withCode(&mrpb.MeasureReport_StatusCode{}, "complete"),
		Type:       withCode(&mrpb.MeasureReport_TypeCode{}, "summary"),
		Measure:    &dtpb.Canonical{Value: MeasureCapacity},
		Identifier: []*dtpb.Identifier{{System: uri(SystemHealthcareServiceID), Value: str(v.Service)}},
		Reporter:   reference("Organization?identifier="+adapter.SystemODS+"|"+v.Reporter, ""),
		Date:       dateTimeOf(v.Generated),
		Period:     &dtpb.Period{Start: day(v.From), End: day(v.To)},
	}
	for _, g := range v.Groups {
		mr.Group = append(mr.Group, group(g))
	}
	return r.marshal(mr)
}

func group(g MeasureGroup) *mrpb.MeasureReport_Group {
	out := &mrpb.MeasureReport_Group{Code: concept(g.Display, adapter.Coding{System: SystemMeasureGroup, Code: g.Code, Display: g.Display})}
	pop := func(code string, n *int64) {
		if n != nil {
			out.Population = append(out.Population, &mrpb.MeasureReport_Group_Population{
				Code:  concept("", adapter.Coding{System: systemMeasurePopulation, Code: code}),
				Count: &dtpb.Integer{Value: int32(*n)},
			})
		}
	}
	pop("initial-population", g.Population)
	pop("numerator", g.Numerator)
	pop("denominator", g.Denominator)
	if g.Score != nil {
		q := &dtpb.Quantity{Value: &dtpb.Decimal{Value: strconv.FormatFloat(*g.Score, 'f', -1, 64)}}
		if g.Unit != "" {
			q.Unit, q.System, q.Code = str(g.Unit), uri("http://unitsofmeasure.org"), code(g.UnitCode)
		}
		if g.ScoreIsUpperBound {
			q.Comparator = withCode(&dtpb.Quantity_ComparatorCode{}, "less-than-or-equal-to") // renders "<="
		}
		out.MeasureScore = q
	}
	return out
}

func day(t time.Time) *dtpb.DateTime {
	d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	return &dtpb.DateTime{ValueUs: d.UnixMicro(), Timezone: "UTC", Precision: dtpb.DateTime_DAY}
}
