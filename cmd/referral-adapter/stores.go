package main

import "github.com/social-prescribing/referral-adapter/adapter/redis"

// stores says which of adapter/redis's stores serves each consumer's
// interface. Where a consumer's interface spans aggregates, its value here
// names every store it draws on, and what for.
type stores struct {
	*redis.Store // the connection (Ping, Client) and the jobs' stores

	intake   intakeStore
	queue    queueStore
	dialogue dialogueStore
	http     httpStore
	patients patientStore
}

// intakeStore serves intake.Store.
type intakeStore struct {
	*redis.ReferralStore  // intake, lookups and the referral's records
	*redis.ConsentStore   // a patient's Consents and referrals; consent and sign-off holds
	*redis.LifecycleStore // UpdateTask: a late Patient's contact details on the Task
	*redis.NotifyStore    // PublishTaskEvent
	*redis.PatientStore   // PatientOf: an earlier Patient's facts for eligibility
}

// queueStore serves lifecycle.Store.
type queueStore struct {
	*redis.ReferralStore  // Task
	*redis.LifecycleStore // claims, leases, Task changes, history
	*redis.CapacityStore  // RerouteTasks: refer-on
	*redis.PatientStore   // contact attempts
}

// dialogueStore serves dialogue.Store.
type dialogueStore struct {
	*redis.ReferralStore // Task, TasksForReferral
	*redis.DialogueStore // messages and Flags
	*redis.OutcomeStore  // the outcomes a closure summary names
}

// httpStore serves httpapi.Store, the read paths.
type httpStore struct {
	*redis.ReferralStore  // reads by id, identifier and referral
	*redis.LifecycleStore // ChangedTasks, TasksByCreation
}

// patientStore serves patient.Store.
type patientStore struct {
	*redis.ReferralStore // Patient by id
	*redis.PatientStore  // PatientOf
}

func newStores(s *redis.Store) stores {
	return stores{Store: s,
		intake:   intakeStore{s.ReferralStore, s.ConsentStore, s.LifecycleStore, s.NotifyStore, s.PatientStore},
		queue:    queueStore{s.ReferralStore, s.LifecycleStore, s.CapacityStore, s.PatientStore},
		dialogue: dialogueStore{s.ReferralStore, s.DialogueStore, s.OutcomeStore},
		http:     httpStore{s.ReferralStore, s.LifecycleStore},
		patients: patientStore{s.ReferralStore, s.PatientStore},
	}
}
