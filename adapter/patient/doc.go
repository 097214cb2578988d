// Package patient serves the Patient resources practices send (issue 19):
// to the practice that sent one, and to whoever holds one of the patient's
// referrals so that they can reach the patient, a VCSE provider getting
// the minimum necessary (name, contact routes, preferred contact and
// language). Who may see a Patient is the access policy's to say
// (access.Policy.SeePatient); anyone else is answered as if there were no
// such Patient.
package patient
