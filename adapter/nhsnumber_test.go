package adapter

import "testing"

func TestNHSNumbers(t *testing.T) {
	for _, ok := range []string{"9000000009", "9000000017", "9434765919", "4010232137"} {
		if !ValidNHSNumber(ok) {
			t.Errorf("%s refused", ok)
		}
	}
	for _, bad := range []string{"9000000008", "1234567890", "900000000", "90000000099", "900000000a", " 900000009", ""} {
		if ValidNHSNumber(bad) {
			t.Errorf("%q accepted", bad)
		}
	}
	seen := map[string]bool{}
	for seq := 0; seq < 20000; seq++ {
		n := SyntheticNHSNumber(seq)
		if !ValidNHSNumber(n) || seen[n] || n[:2] != "90" {
			t.Fatalf("seq %d: %s (valid %v, repeated %v)", seq, n, ValidNHSNumber(n), seen[n])
		}
		seen[n] = true
	}
}
