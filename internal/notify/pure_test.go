package notify

import (
	"strings"
	"testing"
	"time"
)

func TestParseTextRoundTrip(t *testing.T) {
	x, err := ParseText("【{hospital}】{name}您好 {{literal}} 链接：{link}")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(x.Names(), ","); got != "hospital,name,link" {
		t.Errorf("names = %s", got)
	}
	got := x.Render(map[string]string{"hospital": "一院", "name": "张先生", "link": "L"})
	if got != "【一院】张先生您好 {literal} 链接：L" {
		t.Errorf("render = %q", got)
	}
	if x.String() != "【{hospital}】{name}您好 {{literal}} 链接：{link}" {
		t.Errorf("string = %q", x.String())
	}
	for _, bad := range []string{"{name", "a}b", "{}", "{Name}", "{1a}", "{na me}", "{名字}"} {
		if _, err := ParseText(bad); err == nil {
			t.Errorf("ParseText(%q) accepted", bad)
		}
	}
}

func FuzzParseText(f *testing.F) {
	for _, s := range []string{"", "{a}", "{{", "}}", "x{name}y{{z}}", "{", "}", "{a_1}{b}", "【{h}】{n}", "{\xff}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		x, err := ParseText(src)
		if err != nil {
			return
		}
		// A parsed text prints back to a source that parses to the same
		// text and renders the same.
		y, err := ParseText(x.String())
		if err != nil {
			t.Fatalf("re-parse of %q (from %q): %v", x.String(), src, err)
		}
		p := map[string]string{}
		for _, n := range x.Names() {
			p[n] = "<" + n + ">"
		}
		if x.Render(p) != y.Render(p) {
			t.Fatalf("render differs after round trip of %q", src)
		}
		if len(x.Names()) == 0 && x.Render(nil) != strings.NewReplacer("{{", "{", "}}", "}").Replace(src) {
			t.Fatalf("literal text %q rendered as %q", src, x.Render(nil))
		}
	})
}

// adversarial values a caller might pass as any parameter: ID numbers,
// diagnosis codes and sensitive departments, disguised.
var adversarial = []string{
	"110101199003071234", "11010119900307123X", "110101900307123", "110101 19900307 1234", "１１０１０１１９９００３０７１２３４",
	"1101011990030712\u200b34", "I21.9", "c34.9", "Ｃ３４．９", "F32", "Z51.101", "I219", "诊断：I21.9",
	"精神科", "心理门诊", "皮肤性病科", "艾滋病", "HIV", "h i v", "传染科", "感染科", "肿瘤科", "肿 瘤", "肿\u200b瘤", "生殖中心",
	"不孕不育", "男科", "妇产科", "计划生育", "戒毒所", "肺癌", "抑郁症", "梅毒", "乙肝", "结核", "化疗",
	"https://x.cn/?d=%E8%82%BF%E7%98%A4", "https://x.cn/?d=%E8%82%BF%E7%98%A4%ZZ",
	// Traditional script, as a Hong Kong or Taiwan patient or a Big5
	// system writes it.
	"腫瘤科", "愛滋病", "婦產科", "精神科診斷", "抑鬱症", "憂鬱症", "肺結核", "傳染病", "化療", "計劃生育", "宮頸",
	// Pinyin, with and without spaces, tones and case.
	"jingshenke", "JingShenKe", "ai zi bing", "Ài Zī Bìng", "ai4 zi1 bing4", "zhǒng liú kē", "zhong-liu", "xing bing",
	"fu chan ke", "jiao lv", "jiaolü", "Ｊｉｎｇｓｈｅｎ",
	// ID numbers in Chinese numerals, alone or mixed with digits.
	"一一〇一〇五一九五八〇三一二一二三四", "幺幺零幺零五幺九五八零三幺两幺两三四", "一一〇一〇五 一九五八〇三一二 一二三X",
	"110105一九五八〇三一二1234", "壹壹零壹零伍壹玖伍捌零叁壹贰壹贰叁肆", "１１０１０５一九五八〇三一二一二三四",
}

// TestEveryDefaultTemplateIsGuarded renders every built-in template with
// clean sample params (it must pass) and then with each adversarial value in
// each parameter (the guard must refuse every one).
func TestEveryDefaultTemplateIsGuarded(t *testing.T) {
	if len(Defaults()) < 20 {
		t.Fatalf("only %d default templates", len(Defaults()))
	}
	for _, tp := range Defaults() {
		name := tp.Key + "/" + tp.Channel
		if _, err := ParseText(tp.Body); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if bad := checkOverride(tp); len(bad) > 0 {
			t.Errorf("%s does not pass its own override check: %v", name, bad)
		}
		clean, err := render(tp, SampleParams(tp))
		if err != nil {
			t.Errorf("%s with samples: %v", name, err)
			continue
		}
		if err := check(tp.Channel, clean); err != nil {
			t.Errorf("%s is refused with clean samples: %v (%q)", name, err, clean.Text)
		}
		for _, p := range tp.Params {
			for _, v := range adversarial {
				params := SampleParams(tp)
				params[p] = v
				b, err := render(tp, params)
				if err != nil {
					t.Errorf("%s: %v", name, err)
					continue
				}
				err = check(tp.Channel, b)
				if tp.Channel == InApp {
					// Staff notifications refuse ID numbers only: whatever
					// passes must not show one, in the text or the link.
					if err == nil && longestDigitRun(fold(b.Text+" "+b.Link)) >= 15 {
						t.Errorf("%s: ID %q in {%s} shows: %q %q", name, v, p, b.Text, b.Link)
					}
					continue
				}
				if err == nil {
					t.Errorf("%s: %q in {%s} passed the guard: %q %v", name, v, p, b.Text, b.Params)
				}
			}
		}
	}
}

// TestGuardReadsOtherScripts: the words of the list in traditional
// characters and in pinyin, and ID numbers in Chinese numerals, are
// refused like their plain forms — each case here passed before.
func TestGuardReadsOtherScripts(t *testing.T) {
	for _, s := range []string{
		"請於10月12日到腫瘤科複診", "愛滋病門診", "【第一醫院】您的婦產科檢查", "精神科", "憂鬱症回訪",
		"jingshenke", "JINGSHENKE", "jing shen ke", "jīng shén kē", "jing1 shen2 ke1", "ai zi bing", "AiZiBing",
		"please visit the zhongliu clinic", "xin li men zhen",
		"一一〇一〇五一九五八〇三一二一二三四", "身份证号一一零一零五一九五八零三一二一二三四", "幺幺〇幺〇五幺九五八〇三幺两幺两三四",
		"110105一九五八〇三一二一二三四", "一一〇一〇五-一九五八〇三一二-一二三四",
	} {
		if err := Guard(s); err == nil {
			t.Errorf("Guard(%q) passed", s)
		}
	}
}

func TestGuardAllowsOrdinaryText(t *testing.T) {
	for _, s := range []string{
		"请于2026年10月12日 09:30到心血管内科复诊，电话0571-88880000",
		"张先生您好，编号TS-20261001-0001，138 0013 8000",
		"https://sf.example.cn/s/Ab3dE9kQ2x", "骨科", "普外科", "A12345 号",
		// Numerals in ordinary Chinese, a traditional-script greeting, and
		// English and pinyin that merely contain a listed spelling.
		"二〇二六年十月十二日上午九点", "第一医院一号楼三层", "【第一醫院】張先生您好，請於10月12日到骨科複診",
		"Your appointment at Beijing Xiehe Hospital is confirmed", "flexing annexing", "Zhang Wei, ward 3",
		"您的验证码为382915，10分钟内有效", "查询码K7MQ-X9PA-4TZB",
	} {
		if err := Guard(s); err != nil {
			t.Errorf("Guard(%q) = %v", s, err)
		}
	}
}

func FuzzGuard(f *testing.F) {
	for _, s := range append(adversarial, "", "骨科", "A1", "%", "%E8", "x12.") {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := Guard(s)
		// Whatever surrounds a sensitive word, the guard still sees it.
		if err2 := Guard(s + "肿瘤"); err2 == nil {
			t.Fatalf("Guard(%q+肿瘤) passed", s)
		}
		// Nor can any text hide a traditional word, a pinyin word or an ID
		// number in Chinese numerals placed after a space.
		for _, tail := range []string{" 腫瘤", " jingshenke", " 一一〇一〇五一九五八〇三一二一二三四"} {
			if Guard(s+tail) == nil {
				t.Fatalf("Guard(%q) passed", s+tail)
			}
		}
		// The pinyin reading marks one start flag per letter it keeps.
		if p, start := pinyinForm(s); len(p) != len(start) || strings.Trim(p, "abcdefghijklmnopqrstuvwxyz|") != "" {
			t.Fatalf("pinyinForm(%q) = %q with %d flags", s, p, len(start))
		}
		// The guard is a pure function of its input.
		if err3 := Guard(s); (err3 == nil) != (err == nil) {
			t.Fatalf("Guard(%q) changed its mind", s)
		}
	})
}

func TestQuietHours(t *testing.T) {
	q, err := ParseQuietHours("21:00-08:00")
	if err != nil {
		t.Fatal(err)
	}
	loc := time.FixedZone("CST", 8*3600)
	at := func(d, h, m int) time.Time { return time.Date(2026, 9, d, h, m, 0, 0, loc) }
	for _, c := range []struct {
		t     time.Time
		in    bool
		opens time.Time
	}{
		{at(30, 20, 59), false, at(30, 20, 59)},
		{at(30, 21, 0), true, at(31, 8, 0)},
		{at(30, 23, 30), true, at(31, 8, 0)},
		{at(30, 7, 59), true, at(30, 8, 0)},
		{at(30, 8, 0), false, at(30, 8, 0)},
	} {
		if q.In(c.t) != c.in || !q.Opens(c.t).Equal(c.opens) {
			t.Errorf("%s: in=%v opens=%s, want %v %s", c.t, q.In(c.t), q.Opens(c.t), c.in, c.opens)
		}
	}
	day, _ := ParseQuietHours("12:00-13:30")
	if !day.In(at(30, 13, 0)) || day.In(at(30, 13, 30)) || !day.Opens(at(30, 12, 0)).Equal(at(30, 13, 30)) {
		t.Error("a same-day window is wrong")
	}
	if off, _ := ParseQuietHours("off"); !off.Off() || off.In(at(30, 23, 0)) {
		t.Error("off is not off")
	}
	for _, bad := range []string{"21-08", "25:00-08:00", "21:00-21:00", "21:00", "+1:00-08:00", "21:60-08:00"} {
		if _, err := ParseQuietHours(bad); err == nil {
			t.Errorf("ParseQuietHours(%q) accepted", bad)
		}
	}
}

func FuzzParseQuietHours(f *testing.F) {
	for _, s := range []string{"21:00-08:00", "off", "", "0:00-23:59", "12:00-13:30", "-", "1:1-2:2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := ParseQuietHours(s)
		if err != nil {
			return
		}
		r, err := ParseQuietHours(q.String())
		if err != nil || r != q {
			t.Fatalf("%q → %v → %q → %v, %v", s, q, q.String(), r, err)
		}
	})
}

func TestParseRoutes(t *testing.T) {
	r, err := ParseRoutes("sms=webhook, email=smtp, *=log")
	if err != nil {
		t.Fatal(err)
	}
	if r[SMS] != ProviderWebhook || r[Email] != ProviderSMTP || r[WeChat] != ProviderLog || r[Webhook] != ProviderLog {
		t.Errorf("routes = %v", r)
	}
	if r, _ := ParseRoutes("webhook"); r[SMS] != ProviderWebhook || r[Email] != ProviderWebhook || r[InApp] != "" {
		t.Errorf("single = %v", r)
	}
	for _, bad := range []string{"smtp", "sms=smtp", "fax=log", "sms=carrier-pigeon", "sms=log,sms=webhook", "inapp=log", "sms"} {
		if _, err := ParseRoutes(bad); err == nil {
			t.Errorf("ParseRoutes(%q) accepted", bad)
		}
	}
}

func FuzzParseRoutes(f *testing.F) {
	for _, s := range []string{"log", "webhook", "sms=webhook,email=smtp,*=log", "=", ",", "*=smtp", "email=smtp"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRoutes(s)
		if err != nil {
			return
		}
		for ch, p := range r {
			if ch == InApp || p == ProviderSMTP && ch != Email {
				t.Fatalf("%q routed %s to %s", s, ch, p)
			}
		}
	})
}

func TestBackoffGrowsWithJitter(t *testing.T) {
	p := DefaultPolicy()
	for n := 1; n <= 10; n++ {
		want := min(p.Backoff<<(n-1), p.MaxBackoff)
		d := p.backoff(n)
		if d < want/2 || d > want {
			t.Errorf("backoff(%d) = %s, want in [%s, %s]", n, d, want/2, want)
		}
	}
}

func TestNormalizeCode(t *testing.T) {
	for in, want := range map[string]string{"382915": "382915", " 382 915 ": "382915", "３８２９１５": "382915", "382-915": "382915",
		"38291": "", "3829150": "", "38291a": "", "": "", "三八二九一五": "", "٣٨٢٩١٥": ""} {
		got, ok := NormalizeCode(in)
		if got != want || ok != (want != "") {
			t.Errorf("NormalizeCode(%q) = %q %v, want %q", in, got, ok, want)
		}
	}
}

func FuzzNormalizeCode(f *testing.F) {
	for _, s := range []string{"382915", " 382 915 ", "３８２９１５", "38291", "", "\xff\xfe", "1-2-3-4-5-6"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		code, ok := NormalizeCode(s)
		if !ok {
			if code != "" {
				t.Fatalf("%q refused but gave %q", s, code)
			}
			return
		}
		if len(code) != 6 || strings.Trim(code, "0123456789") != "" {
			t.Fatalf("%q read as %q", s, code)
		}
		if again, ok := NormalizeCode(code); !ok || again != code {
			t.Fatalf("not idempotent: %q → %q → %q", s, code, again)
		}
	})
}
