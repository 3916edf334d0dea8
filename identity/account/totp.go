package account

import (
	"crypto/subtle"
	"fmt"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// TOTP's settings, those every authenticator app understands (RFC 6238): 30-second steps,
// 6 digits, HMAC-SHA1, a 160-bit secret.
const (
	totpPeriod = 30
	totpDigits = otp.DigitsSix
	totpSkew   = 1 // steps accepted either side of now, for clocks that drift
)

var totpOpts = totp.ValidateOpts{Period: totpPeriod, Digits: totpDigits, Algorithm: otp.AlgorithmSHA1}

// NewTOTP makes a second-factor secret for the account name of issuer, and returns it with the
// otpauth:// URI that an authenticator app reads (from a QR code or typed in).
func NewTOTP(issuer, name string) (secret, uri string, err error) {
	key, err := totp.Generate(totp.GenerateOpts{Issuer: issuer, AccountName: name, Period: totpPeriod,
		Digits: totpDigits, Algorithm: otp.AlgorithmSHA1, SecretSize: 20})
	if err != nil {
		return "", "", fmt.Errorf("account: TOTP secret: %w", err)
	}
	return key.Secret(), key.URL(), nil
}

// matchTOTP returns the time step of secret whose code is code, within totpSkew steps of now,
// and whether there is one. Every step is compared, in constant time, so that the time taken
// says nothing about which matched.
func matchTOTP(secret, code string, now time.Time) (step int64, ok bool) {
	if len(code) != int(totpDigits) {
		return 0, false
	}
	for d := -totpSkew; d <= totpSkew; d++ {
		at := now.Add(time.Duration(d) * totpPeriod * time.Second)
		want, err := totp.GenerateCodeCustom(secret, at, totpOpts)
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 && !ok {
			step, ok = at.Unix()/totpPeriod, true
		}
	}
	return step, ok
}

// TOTPCode returns the code of secret at t, for tests and for tools that enrol a device.
func TOTPCode(secret string, t time.Time) (string, error) {
	return totp.GenerateCodeCustom(secret, t, totpOpts)
}
