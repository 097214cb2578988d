package adapter

// ValidNHSNumber reports whether s is an NHS number: ten digits, the last
// the modulus 11 check digit of the first nine (a remainder giving 10 is
// no NHS number).
func ValidNHSNumber(s string) bool {
	if len(s) != 10 {
		return false
	}
	for i := 0; i < 10; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	check, ok := nhsCheckDigit(s[:9])
	return ok && check == s[9]
}

// nhsCheckDigit is the modulus 11 check digit of nine digits.
func nhsCheckDigit(nine string) (byte, bool) {
	sum := 0
	for i := 0; i < 9; i++ {
		sum += int(nine[i]-'0') * (10 - i)
	}
	check := 11 - sum%11
	switch check {
	case 11:
		return '0', true
	case 10:
		return 0, false
	}
	return byte('0' + check), true
}

// SyntheticNHSNumber returns the seq-th valid NHS number of the synthetic
// test range that starts at 900 000 0000 (seq from 0 to 9,999,999; each
// gives a different number), for demo data, load generation and tests.
func SyntheticNHSNumber(seq int) string {
	prefix := 90000000 + seq%10000000 // eight digits
	for d := 0; d < 10; d++ {
		nine := itoa9(prefix*10 + d)
		if c, ok := nhsCheckDigit(nine); ok {
			return nine + string(c)
		}
	}
	panic("unreachable: two ninth digits cannot both give check 10")
}

func itoa9(n int) string {
	b := make([]byte, 9)
	for i := 8; i >= 0; i-- {
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b)
}
