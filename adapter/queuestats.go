package adapter

import "time"

// QueueStats is one service's queue and capacity at a moment, as the
// metrics collector exposes them.
type QueueStats struct {
	Depth     int64
	OldestAge time.Duration // of the longest-waiting referral (by due time order's head)
	Remaining int64         // free places; -1 when unlimited
}
