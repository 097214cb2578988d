// Package access is the adapter's one access policy: which patient-level
// records a caller may see, and, at every door patient data leaves by,
// whether the patient's consent permits it to go to the recipient actually
// receiving it (consent.Release).
//
// Who sees what:
//
//   - A practice sees the referrals it made (their ServiceRequests, Tasks
//     and dialogue), and an outcome or a holder's message only when the
//     patient approved sharing it and their consent permits it.
//   - A link worker or provider sees the referrals its organisation holds:
//     those waiting in, or taken from, the queue of a service it runs (link
//     workers the link-worker services, providers the VCSE services of
//     their organisation), never while the referral waits for the patient's
//     consent or a clinician's sign-off. A link worker also follows the
//     onward referrals made from a referral its organisation holds. In
//     every case only when the patient's consent permits disclosing the
//     referral to the caller: its organisation, and the person acting.
//   - Commissioners and admins see no patient-level record: commissioners
//     read anonymous reports, admins administer (capacity, audit, dead
//     letters). Neither works a queue.
//
// What a caller may not see answers exactly as what is not there
// (adapter.NotFound), so existence never leaks.
//
// The doors and the consent decision each asks (Release, for whom):
// routing and its fallbacks, releases from consent and sign-off holds,
// re-routing and waitlist promotion (Gate and Mark, the organisation of
// each service); refer-on (the organisation of the target service); claims,
// reads and searches of referrals, Tasks, outcomes and messages (SeeTask,
// SeeRecord: the caller's organisation and person); outcomes and messages
// back to the practice (the practice, with the patient's approval), the
// closure summary's content among them; reads of a Patient and the
// Patient in a claim's answer (SeePatient, SeePatientOn: the practice that
// sent it, or a holder of one of the patient's referrals whom the consent
// lets have the Patient).
package access
