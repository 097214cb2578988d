package adapter

import "time"

// london is loaded once: every package that counts days uses the same one.
var london = func() *time.Location {
	if loc, err := time.LoadLocation("Europe/London"); err == nil {
		return loc
	}
	return time.UTC
}()

// London is Europe/London, where the network works: working days for
// deadlines, report days and months, and the jobs' schedules are counted
// in it. Without a zone database (a minimal image that does not embed
// time/tzdata, as cmd/referral-adapter does) it is UTC.
func London() *time.Location { return london }
