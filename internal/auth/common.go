package auth

import (
	"strings"

	"suifang/internal/errs"
)

// commonPasswords are passwords that pass the length and class rules yet
// are among the first an attacker tries: keyboard walks, "Admin@123"-style
// defaults, pinyin names and greetings with digits, years and seasons, the
// defaults of equipment found in hospital server rooms, and this product's
// own published demo password. Compared case-insensitively as a whole.
var commonPasswords = func() map[string]bool {
	list := []string{
		// the classics, mixed-case and symbol variants
		"P@ssw0rd", "P@ssw0rd1", "P@ssw0rd!", "P@ssw0rd123", "P@ssword1", "P@$$w0rd", "Pa$$w0rd",
		"Passw0rd", "Passw0rd!", "Password1", "Password1!", "Password!", "Password123", "Password123!",
		"Password@123", "Password2025", "Password2026", "Password@2026", "Pass@123", "Pass@word1",
		"Changeme1", "ChangeMe123", "Welcome1", "Welcome123", "Welcome@123", "Letmein1", "Iloveyou1",
		"Monkey123", "Dragon123", "Sunshine1", "Football1", "Baseball1", "Superman1", "Master123",
		"Shadow123", "Michael1", "Jessica1", "Hello123", "Hello@123",
		// administrator and system defaults
		"Admin@123", "Admin@1234", "Admin@12345", "Admin123", "Admin123!", "Admin!@#", "Admin888",
		"Admin@888", "Admin@2026", "Admin2026!", "Root@123", "Root123!", "Root1234", "Sys@1234",
		"Sa123456", "Sa@123456", "Test1234", "Test@123", "Test@1234", "Temp@123", "Temp1234",
		"Guest@123", "User@123", "User1234", "Oracle@123", "Mysql@123", "Postgres1", "Server@123",
		"Huawei@123", "Huawei123", "Sangfor@123", "Hikvision1",
		// keyboard walks
		"Qwer1234", "Qwerty123", "Qwerty1!", "Qwerty@123", "Qwe123!@#", "Qwertyuiop1", "Asdf1234",
		"Asdf@1234", "Asdfghjkl1", "Zxcv1234", "Zxc123456", "Zxcvbnm1", "Zxcvbnm@123", "1qaz@WSX",
		"1qaz!QAZ", "1qaz2wsx", "!QAZ2wsx", "Zaq12wsx", "Qaz123456", "1q2w3e4r", "1q2w3e4r5t",
		"1q2w3e4r!", "Qq123456", "A1b2c3d4",
		// Aa/Abc + digits, the commonest shape that passes three classes
		"Aa123", "Aa12345", "Aa123456", "Aa123456.", "Aa123456!", "Aa@123456", "Aa1234567",
		"Aa12345678", "Aa123456789", "Aa111111", "Aa112233", "Aa123123", "Aa888888", "Aa666666",
		"Aa000000", "Aa654321", "Aa987654", "Aa147258", "Aa5201314", "88888888Aa", "5201314Aa",
		"Abc123456!", "Abc@123456", "Abc123!@#", "Abc@1234", "Abc12345", "Abcd1234", "Abcd@1234",
		"Abcd!234", "abc123456", "a123456", "a1234567",
		// pinyin names, greetings and places with digits
		"Wang123456", "Zhang123456", "Li123456", "Liu123456", "Chen123456", "Yang123456",
		"Huang123456", "Zhao123456", "Woaini123", "Woaini@123", "Woaini520", "Woaini1314",
		"Love1314", "Nihao123", "Beijing123", "Shanghai123", "China123", "Zhongguo123",
		// hospital and season-of-the-year guesses
		"Hospital@123", "Hospital2026", "Yiyuan@123", "Yiyuan2026", "Doctor@123", "Nurse@123",
		"Huli@123", "Yisheng@123", "Kefu@123", "Jiankang@123", "Spring2026!", "Summer2026!",
		"Autumn2026!", "Winter2026!",
		// this product: the demo's published password and its neighbours
		"Suifang@2026", "Suifang@2025", "Suifang@2027", "Suifang@123", "Suifang123", "Suifang2026",
	}
	m := make(map[string]bool, len(list))
	for _, pw := range list {
		m[strings.ToLower(pw)] = true
	}
	return m
}()

// IsCommonPassword reports whether pw is on the common-password list.
func IsCommonPassword(pw string) bool { return commonPasswords[strings.ToLower(strings.TrimSpace(pw))] }

// CheckCommon refuses a password on the common-password list. It is apart
// from Check because the demo seed must still create its accounts with
// the published demo password (see UserInput.Demo).
func (r PasswordRules) CheckCommon(pw string) error {
	if IsCommonPassword(pw) {
		return errs.Field("password", "password_common", "this password is among the first an attacker tries; choose another")
	}
	return nil
}
