package complaint

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// The texts below read like what the complaint office types: the same
// event told twice (by the patient at the counter and by a relative on
// the phone, or a website form and its follow-up call) must score at or
// above the duplicate threshold; different events in the same department
// must stay below it.
var (
	nightNurse  = "住院期间夜班护士态度很差，我父亲半夜按呼叫铃二十分钟没人来，后来护士过来还说我们事多，要求护士长给个说法并道歉。"
	nightNurse2 = "我爸住院时半夜按了呼叫铃二十多分钟都没有护士来，来了以后护士还嫌我们事多，态度很差。希望护士长道歉，给个说法！"
	feeTwice    = "出院结算时发现CT检查费重复收取了两次，共多收380元，要求退还多收的费用。"
	feeTwice2   = "出院结账单上ＣＴ检查收了两次费，多收了380元，请退还多收的钱。"
	parking     = "门诊停车场太乱，排队进场一个多小时，保安也不指挥，耽误了看病。"
	waitDoctor  = "挂了上午9点的专家号，一直等到11点半才看上，医生看病不到两分钟就打发我们走了。"
	toilet      = "病房卫生间地面很脏，垃圾桶好几天没人倒，气味很大。"
	nurseRude   = "护士抽血扎了三次都没扎上，还怪我血管不好，说话很冲。"
)

func TestSimilarityChineseComplaints(t *testing.T) {
	for _, tc := range []struct {
		name string
		a, b string
		dup  bool
	}{
		{"same text", nightNurse, nightNurse, true},
		{"retold by a relative", nightNurse, nightNurse2, true},
		{"fees, full-width letters", feeTwice, feeTwice2, true},
		{"same text, other punctuation", "医生态度差，不解释病情。", "医生态度差 不解释病情", true},
		{"nurses, other event", nightNurse, nurseRude, false},
		{"parking vs waiting", parking, waitDoctor, false},
		{"toilet vs night nurse", toilet, nightNurse, false},
		{"fees vs waiting", feeTwice, waitDoctor, false},
		{"empty", "", nightNurse, false},
		{"punctuation only", "！！！", "！！！", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Similarity(tc.a, tc.b)
			if back := Similarity(tc.b, tc.a); back != got {
				t.Errorf("not symmetric: %.3f vs %.3f", got, back)
			}
			if (got >= DefaultSimilarity) != tc.dup {
				t.Errorf("Similarity = %.3f, threshold %.2f, want duplicate=%v", got, DefaultSimilarity, tc.dup)
			}
		})
	}
}

func TestSimilarityHandCounted(t *testing.T) {
	// 医生态度差 → 医生 生态 态度 度差; 医生态度好 → 医生 生态 态度 度好:
	// 3 shared of 4+4, Dice = 6/8.
	if got := Similarity("医生态度差", "医生态度好"); got != 0.75 {
		t.Errorf("got %v, want 0.75", got)
	}
	// A run of letters is one token: "CT费" → (ct,费); "ＣＴ费" folds to the same.
	if got := Similarity("CT费", "ＣＴ费"); got != 1 {
		t.Errorf("full-width fold: got %v, want 1", got)
	}
	if got := Similarity("差", "差"); got != 1 {
		t.Errorf("one character: got %v, want 1", got)
	}
}

func FuzzSimilarity(f *testing.F) {
	for _, s := range []string{nightNurse, nightNurse2, feeTwice2, parking, "", "ＡＢ", "a\xffb", strings.Repeat("差", 5000)} {
		f.Add(s, nightNurse)
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		got := Similarity(a, b)
		if got < 0 || got > 1 {
			t.Fatalf("Similarity(%q, %q) = %v, outside [0,1]", a, b, got)
		}
		if back := Similarity(b, a); back != got {
			t.Fatalf("not symmetric: %v vs %v", got, back)
		}
		if len(profileOf(a).grams) > 0 && Similarity(a, a) != 1 {
			t.Fatalf("a text is not identical to itself: %q", a)
		}
	})
}

// BenchmarkSimilarity scores one registration against the most a search
// scores: maxCandidates complaints of the longest allowed text.
func BenchmarkSimilarity(b *testing.B) {
	long := strings.Repeat(nightNurse+feeTwice, 4000/utf8.RuneCountInString(nightNurse+feeTwice))
	other := strings.Repeat(nightNurse2+parking, 4000/utf8.RuneCountInString(nightNurse2+parking))
	b.ReportAllocs()
	for b.Loop() {
		mine := profileOf(long)
		for range maxCandidates {
			mine.dice(profileOf(other))
		}
	}
}
