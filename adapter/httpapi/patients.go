package httpapi

import (
	"context"

	"github.com/gin-gonic/gin"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// Patients reads stored Patients for the callers who may see them (issue
// 19; adapter/patient).
type Patients interface {
	Read(ctx context.Context, c adapter.Caller, id string) ([]byte, error)
	OfTask(ctx context.Context, c adapter.Caller, t *adapter.Task) ([]byte, error)
	ContactDetails(ctx context.Context, t *adapter.Task) (bool, error)
	Update(ctx context.Context, c adapter.Caller, id string, ifVersion int, body []byte) ([]byte, error)
}

// updatePatient: PUT /fhir/Patient/{id}, the practice that sent a Patient
// sending it again changed (a new phone number, an address); If-Match
// W/"{versionId}" makes it conditional. 200 with the Patient as stored.
func (s *Server) updatePatient(c *gin.Context) {
	ifVersion, err := ifMatch(c.GetHeader("If-Match"))
	if err != nil {
		s.writeError(c, err)
		return
	}
	body, err := s.Patients.Update(c.Request.Context(), callerOf(c), c.Param("id"), ifVersion, bodyOf(c))
	if err != nil {
		s.writeError(c, notFoundAs(err, adapter.KindPatient))
		return
	}
	s.writeResource(c, body)
}

// createPatient: POST /fhir/Patient, a conditional create on the NHS
// number (If-None-Exist honoured too).
func (s *Server) createPatient(c *gin.Context) {
	s.create(c, adapter.KindPatient, s.Intake.CreatePatient)
}

// readPatient: GET /fhir/Patient/{id}, to the practice that sent it and to
// the holders of the patient's referrals (the minimum necessary to a VCSE
// provider); anyone else 404, as for no such Patient.
func (s *Server) readPatient(c *gin.Context) {
	body, err := s.Patients.Read(c.Request.Context(), callerOf(c), c.Param("id"))
	if err != nil {
		s.writeError(c, notFoundAs(err, adapter.KindPatient))
		return
	}
	s.writeResource(c, body)
}

// noContactDetails is the Task.note of a referral sent without a way to
// reach the patient (an NHS number only, or a Patient without telecom or
// address).
const noContactDetails = "No contact details were sent with this referral: the practice has sent no Patient with a telephone number or address for this patient. " +
	"The practice can send them as a Patient (POST /fhir/Patient); the service can ask for them on the referral's message thread (Communication)."

// contactNote says on a live referral's Task when the practice sent no
// contact details for the patient.
func (s *Server) contactNote(ctx context.Context, t *adapter.Task) (string, error) {
	if s.Patients == nil || t.Owner == "" || t.Status.Terminal() {
		return "", nil
	}
	known, err := s.Patients.ContactDetails(ctx, t)
	if err != nil || known {
		return "", err
	}
	return noContactDetails, nil
}
