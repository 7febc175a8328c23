package gen

// The tables below are the vocabulary of the generator. Every value is
// fictional or generic: surnames and name characters are the common ones,
// region codes are real GB/T 2260 districts (so ID numbers look right) but
// streets and numbers are invented, employers are generic.

// Specialty selects the diagnoses, stay lengths, ages and outcomes of a
// department's discharges.
type Specialty string

const (
	Cardiology  Specialty = "cardiology"  // 心血管内科
	Internal    Specialty = "internal"    // 内科 (cardiology, respiratory, endocrine, digestive, neurology)
	Surgery     Specialty = "surgery"     // 普通外科
	SurgeryMix  Specialty = "surgery_mix" // 外科 of a smaller hospital: general surgery and orthopaedics
	Orthopedics Specialty = "orthopedics" // 骨科
	ObGyn       Specialty = "obgyn"       // 妇产科
	Pediatrics  Specialty = "pediatrics"  // 儿科
	Dental      Specialty = "dental"      // 口腔科
)

// Specialties lists the known specialties.
func Specialties() []Specialty {
	return []Specialty{Cardiology, Internal, Surgery, SurgeryMix, Orthopedics, ObGyn, Pediatrics, Dental}
}

// DefaultDepartments are the clinical departments of the demo group
// (internal/demo): H01 示范市第一人民医院 and H02 示范市第二人民医院.
func DefaultDepartments() []Department {
	return []Department{
		{Institution: "H01", Code: "0301", Name: "心血管内科", WardCode: "0301W1", WardName: "心血管内科一病区", Specialty: Cardiology, Weight: 5},
		{Institution: "H01", Code: "0402", Name: "普通外科", WardCode: "0402W1", WardName: "普通外科病区", Specialty: Surgery, Weight: 5},
		{Institution: "H01", Code: "0405", Name: "骨科", Specialty: Orthopedics, Weight: 4},
		{Institution: "H01", Code: "0501", Name: "妇产科", Specialty: ObGyn, Weight: 4},
		{Institution: "H01", Code: "0601", Name: "儿科", Specialty: Pediatrics, Weight: 3},
		{Institution: "H02", Code: "0300", Name: "内科", Specialty: Internal, Weight: 5},
		{Institution: "H02", Code: "0400", Name: "外科", Specialty: SurgeryMix, Weight: 4},
		{Institution: "H02", Code: "1200", Name: "口腔科", Specialty: Dental, Weight: 1},
	}
}

// diagnosis is one ICD-10 discharge diagnosis with what goes with it.
type diagnosis struct {
	code, name string
	specs      []Specialty
	weight     int
	surgery    string  // the operation when there is one
	pSurgery   float64 // probability of the operation
	los        [2]int  // length of stay in days, min and max
	age        [2]int  // age range overriding the specialty's; {0,0} = none
	newborn    bool    // a baby of a few days or weeks
	sex        byte    // 'F' or 'M' when only one sex has it
}

var (
	cardio   = []Specialty{Cardiology, Internal}
	surg     = []Specialty{Surgery, SurgeryMix}
	ortho    = []Specialty{Orthopedics, SurgeryMix}
	internal = []Specialty{Internal}
	obgyn    = []Specialty{ObGyn}
	peds     = []Specialty{Pediatrics}
	dental   = []Specialty{Dental}
)

// diagnoses: about seventy plausible primary discharge diagnoses. Codes
// are ICD-10 (WHO) with the usual Chinese clinical names.
var diagnoses = []diagnosis{
	// 心血管内科
	{code: "I21.0", name: "急性前壁心肌梗死", specs: cardio, weight: 4, surgery: "经皮冠状动脉介入治疗", pSurgery: 0.85, los: [2]int{6, 14}},
	{code: "I21.1", name: "急性下壁心肌梗死", specs: cardio, weight: 3, surgery: "经皮冠状动脉介入治疗", pSurgery: 0.8, los: [2]int{6, 14}},
	{code: "I20.0", name: "不稳定型心绞痛", specs: cardio, weight: 8, surgery: "冠状动脉造影术", pSurgery: 0.6, los: [2]int{4, 9}},
	{code: "I25.1", name: "动脉粥样硬化性心脏病", specs: cardio, weight: 6, surgery: "冠状动脉造影术", pSurgery: 0.3, los: [2]int{4, 10}},
	{code: "I10", name: "原发性高血压", specs: cardio, weight: 6, los: [2]int{4, 8}},
	{code: "I11.9", name: "高血压性心脏病", specs: cardio, weight: 3, los: [2]int{5, 10}},
	{code: "I50.0", name: "充血性心力衰竭", specs: cardio, weight: 5, los: [2]int{7, 16}, age: [2]int{50, 96}},
	{code: "I48", name: "心房颤动", specs: cardio, weight: 5, surgery: "心房颤动射频消融术", pSurgery: 0.25, los: [2]int{4, 10}},
	{code: "I42.0", name: "扩张型心肌病", specs: cardio, weight: 1, los: [2]int{7, 14}},
	{code: "I47.1", name: "阵发性室上性心动过速", specs: cardio, weight: 2, surgery: "心内电生理检查及射频消融术", pSurgery: 0.8, los: [2]int{3, 6}, age: [2]int{18, 70}},
	{code: "I49.5", name: "病态窦房结综合征", specs: cardio, weight: 1, surgery: "永久起搏器植入术", pSurgery: 0.9, los: [2]int{5, 10}, age: [2]int{55, 95}},
	{code: "I44.2", name: "三度房室传导阻滞", specs: cardio, weight: 1, surgery: "永久起搏器植入术", pSurgery: 0.9, los: [2]int{5, 10}, age: [2]int{55, 95}},
	// 内科（呼吸、内分泌、消化、神经）
	{code: "J18.9", name: "肺炎", specs: internal, weight: 8, los: [2]int{6, 14}},
	{code: "J44.1", name: "慢性阻塞性肺疾病伴急性加重", specs: internal, weight: 6, los: [2]int{7, 15}, age: [2]int{50, 95}},
	{code: "J20.9", name: "急性支气管炎", specs: internal, weight: 3, los: [2]int{4, 8}},
	{code: "E11.9", name: "2型糖尿病", specs: internal, weight: 6, los: [2]int{6, 12}, age: [2]int{35, 90}},
	{code: "E11.2", name: "2型糖尿病伴肾病", specs: internal, weight: 2, los: [2]int{8, 14}, age: [2]int{40, 90}},
	{code: "I63.9", name: "脑梗死", specs: internal, weight: 6, los: [2]int{9, 18}, age: [2]int{45, 95}},
	{code: "K29.7", name: "慢性胃炎", specs: internal, weight: 3, los: [2]int{3, 7}},
	{code: "K25.9", name: "胃溃疡", specs: internal, weight: 2, los: [2]int{5, 10}},
	{code: "N18.9", name: "慢性肾脏病", specs: internal, weight: 2, los: [2]int{7, 14}, age: [2]int{40, 90}},
	{code: "K92.2", name: "上消化道出血", specs: internal, weight: 2, los: [2]int{5, 12}},
	// 普通外科
	{code: "K35.8", name: "急性阑尾炎", specs: surg, weight: 8, surgery: "腹腔镜阑尾切除术", pSurgery: 0.95, los: [2]int{3, 7}, age: [2]int{12, 75}},
	{code: "K80.1", name: "胆囊结石伴慢性胆囊炎", specs: surg, weight: 8, surgery: "腹腔镜胆囊切除术", pSurgery: 0.9, los: [2]int{3, 7}},
	{code: "K81.0", name: "急性胆囊炎", specs: surg, weight: 3, surgery: "腹腔镜胆囊切除术", pSurgery: 0.6, los: [2]int{5, 10}},
	{code: "K40.9", name: "腹股沟疝", specs: surg, weight: 6, surgery: "腹腔镜腹股沟疝修补术", pSurgery: 0.95, los: [2]int{2, 5}, sex: 'M'},
	{code: "K56.7", name: "肠梗阻", specs: surg, weight: 3, surgery: "肠粘连松解术", pSurgery: 0.3, los: [2]int{6, 14}},
	{code: "K85.9", name: "急性胰腺炎", specs: surg, weight: 3, los: [2]int{7, 16}},
	{code: "C16.9", name: "胃恶性肿瘤", specs: surg, weight: 2, surgery: "腹腔镜根治性远端胃大部切除术", pSurgery: 0.8, los: [2]int{10, 20}, age: [2]int{40, 88}},
	{code: "C18.9", name: "结肠恶性肿瘤", specs: surg, weight: 2, surgery: "腹腔镜结肠癌根治术", pSurgery: 0.8, los: [2]int{10, 20}, age: [2]int{40, 88}},
	{code: "C20", name: "直肠恶性肿瘤", specs: surg, weight: 1, surgery: "腹腔镜直肠癌根治术", pSurgery: 0.8, los: [2]int{10, 21}, age: [2]int{40, 88}},
	{code: "E04.1", name: "甲状腺结节", specs: surg, weight: 4, surgery: "甲状腺部分切除术", pSurgery: 0.9, los: [2]int{3, 6}, age: [2]int{25, 75}},
	{code: "C50.9", name: "乳腺恶性肿瘤", specs: surg, weight: 2, surgery: "乳腺癌改良根治术", pSurgery: 0.9, los: [2]int{7, 14}, age: [2]int{30, 80}, sex: 'F'},
	{code: "I83.9", name: "下肢静脉曲张", specs: surg, weight: 3, surgery: "大隐静脉高位结扎剥脱术", pSurgery: 0.95, los: [2]int{3, 7}, age: [2]int{35, 80}},
	// 骨科
	{code: "S72.0", name: "股骨颈骨折", specs: ortho, weight: 5, surgery: "人工股骨头置换术", pSurgery: 0.9, los: [2]int{8, 18}, age: [2]int{55, 96}},
	{code: "S72.1", name: "股骨粗隆间骨折", specs: ortho, weight: 4, surgery: "股骨近端防旋髓内钉内固定术", pSurgery: 0.9, los: [2]int{8, 18}, age: [2]int{60, 96}},
	{code: "S82.2", name: "胫骨干骨折", specs: ortho, weight: 3, surgery: "胫骨骨折切开复位内固定术", pSurgery: 0.85, los: [2]int{7, 15}, age: [2]int{16, 75}},
	{code: "S52.5", name: "桡骨远端骨折", specs: ortho, weight: 3, surgery: "桡骨远端骨折切开复位钢板内固定术", pSurgery: 0.7, los: [2]int{4, 9}},
	{code: "S42.0", name: "锁骨骨折", specs: ortho, weight: 2, surgery: "锁骨骨折切开复位内固定术", pSurgery: 0.8, los: [2]int{4, 8}, age: [2]int{16, 70}},
	{code: "S32.0", name: "腰椎骨折", specs: ortho, weight: 2, surgery: "经皮椎体后凸成形术", pSurgery: 0.7, los: [2]int{6, 14}, age: [2]int{40, 92}},
	{code: "M17.9", name: "膝关节骨关节炎", specs: ortho, weight: 4, surgery: "人工全膝关节置换术", pSurgery: 0.6, los: [2]int{7, 14}, age: [2]int{50, 88}},
	{code: "M16.9", name: "髋关节骨关节炎", specs: ortho, weight: 2, surgery: "人工全髋关节置换术", pSurgery: 0.7, los: [2]int{8, 15}, age: [2]int{50, 88}},
	{code: "M51.2", name: "腰椎间盘突出症", specs: ortho, weight: 5, surgery: "经皮椎间孔镜髓核摘除术", pSurgery: 0.5, los: [2]int{5, 12}, age: [2]int{25, 80}},
	{code: "M48.0", name: "腰椎管狭窄症", specs: ortho, weight: 2, surgery: "腰椎后路减压植骨融合内固定术", pSurgery: 0.7, los: [2]int{8, 16}, age: [2]int{50, 88}},
	{code: "M47.8", name: "颈椎病", specs: ortho, weight: 2, surgery: "颈椎前路椎间盘切除融合术", pSurgery: 0.3, los: [2]int{6, 12}, age: [2]int{35, 85}},
	// 妇产科
	{code: "O80", name: "单胎顺产", specs: obgyn, weight: 10, los: [2]int{2, 4}, age: [2]int{20, 42}, sex: 'F'},
	{code: "O82", name: "剖宫产单胎分娩", specs: obgyn, weight: 7, surgery: "子宫下段剖宫产术", pSurgery: 1, los: [2]int{4, 7}, age: [2]int{20, 44}, sex: 'F'},
	{code: "O42.0", name: "胎膜早破", specs: obgyn, weight: 2, los: [2]int{3, 6}, age: [2]int{20, 42}, sex: 'F'},
	{code: "O24.4", name: "妊娠期糖尿病", specs: obgyn, weight: 2, los: [2]int{3, 7}, age: [2]int{22, 44}, sex: 'F'},
	{code: "O14.9", name: "子痫前期", specs: obgyn, weight: 1, surgery: "子宫下段剖宫产术", pSurgery: 0.7, los: [2]int{5, 10}, age: [2]int{20, 44}, sex: 'F'},
	{code: "O00.9", name: "异位妊娠", specs: obgyn, weight: 2, surgery: "腹腔镜输卵管切除术", pSurgery: 0.85, los: [2]int{3, 7}, age: [2]int{20, 42}, sex: 'F'},
	{code: "D25.9", name: "子宫平滑肌瘤", specs: obgyn, weight: 4, surgery: "腹腔镜子宫肌瘤剔除术", pSurgery: 0.9, los: [2]int{4, 8}, age: [2]int{30, 55}, sex: 'F'},
	{code: "N83.2", name: "卵巢囊肿", specs: obgyn, weight: 3, surgery: "腹腔镜卵巢囊肿剥除术", pSurgery: 0.9, los: [2]int{3, 6}, age: [2]int{18, 55}, sex: 'F'},
	{code: "N80.0", name: "子宫腺肌病", specs: obgyn, weight: 1, surgery: "腹腔镜全子宫切除术", pSurgery: 0.6, los: [2]int{5, 9}, age: [2]int{35, 55}, sex: 'F'},
	// 儿科
	{code: "J18.0", name: "支气管肺炎", specs: peds, weight: 10, los: [2]int{5, 10}},
	{code: "J21.9", name: "急性毛细支气管炎", specs: peds, weight: 3, los: [2]int{4, 8}, age: [2]int{0, 2}},
	{code: "J20.9", name: "急性支气管炎", specs: peds, weight: 4, los: [2]int{3, 7}},
	{code: "A08.0", name: "轮状病毒性肠炎", specs: peds, weight: 3, los: [2]int{3, 6}, age: [2]int{0, 4}},
	{code: "K52.9", name: "急性胃肠炎", specs: peds, weight: 3, los: [2]int{2, 5}},
	{code: "B08.4", name: "手足口病", specs: peds, weight: 2, los: [2]int{4, 7}, age: [2]int{0, 5}},
	{code: "J03.9", name: "急性扁桃体炎", specs: peds, weight: 2, los: [2]int{3, 6}, age: [2]int{3, 14}},
	{code: "R56.0", name: "热性惊厥", specs: peds, weight: 1, los: [2]int{2, 5}, age: [2]int{0, 5}},
	{code: "J45.9", name: "支气管哮喘", specs: peds, weight: 2, los: [2]int{4, 8}, age: [2]int{3, 14}},
	{code: "P59.9", name: "新生儿黄疸", specs: peds, weight: 2, los: [2]int{3, 7}, newborn: true},
	// 口腔科（住院）
	{code: "K01.1", name: "阻生牙", specs: dental, weight: 4, surgery: "阻生牙拔除术", pSurgery: 0.95, los: [2]int{1, 3}, age: [2]int{18, 45}},
	{code: "K02.1", name: "牙本质龋", specs: dental, weight: 2, surgery: "龋齿充填术", pSurgery: 0.5, los: [2]int{1, 2}, age: [2]int{4, 12}},
	{code: "K04.0", name: "牙髓炎", specs: dental, weight: 2, surgery: "根管治疗术", pSurgery: 0.6, los: [2]int{1, 3}},
	{code: "K05.3", name: "慢性牙周炎", specs: dental, weight: 2, surgery: "牙周翻瓣术", pSurgery: 0.5, los: [2]int{1, 3}, age: [2]int{30, 80}},
	{code: "K12.2", name: "颌面部间隙感染", specs: dental, weight: 2, surgery: "脓肿切开引流术", pSurgery: 0.7, los: [2]int{5, 10}},
	{code: "K09.0", name: "颌骨囊肿", specs: dental, weight: 2, surgery: "颌骨囊肿刮治术", pSurgery: 0.9, los: [2]int{4, 8}},
	{code: "S02.6", name: "下颌骨骨折", specs: dental, weight: 2, surgery: "下颌骨骨折切开复位内固定术", pSurgery: 0.9, los: [2]int{6, 12}, age: [2]int{16, 65}},
	{code: "Q35.9", name: "腭裂", specs: dental, weight: 1, surgery: "腭裂修复术", pSurgery: 1, los: [2]int{5, 9}, age: [2]int{0, 4}},
	{code: "Q36.9", name: "唇裂", specs: dental, weight: 1, surgery: "唇裂修复术", pSurgery: 1, los: [2]int{4, 8}, age: [2]int{0, 2}},
	{code: "K11.2", name: "涎腺炎", specs: dental, weight: 1, los: [2]int{4, 8}},
}

// comorbidities are secondary diagnoses of older adults.
var comorbidities = []struct {
	code, name string
	p          float64
}{
	{"I10", "原发性高血压", 0.30},
	{"E11.9", "2型糖尿病", 0.12},
	{"E78.5", "高脂血症", 0.10},
}

// Outcome weights per mille: cured, improved, not cured, died, other.
var outcomeWeights = map[Specialty][5]int{
	Cardiology:  {250, 705, 25, 8, 12},
	Internal:    {300, 650, 30, 8, 12},
	Surgery:     {520, 450, 15, 3, 12},
	SurgeryMix:  {500, 470, 15, 3, 12},
	Orthopedics: {380, 590, 17, 2, 11},
	ObGyn:       {955, 38, 0, 0, 7},
	Pediatrics:  {640, 350, 5, 0, 5},
	Dental:      {700, 292, 3, 0, 5},
}

// ageShape is a specialty's default age range and the mode of its
// triangular distribution, as a fraction of the range: adults skew old.
var ageShape = map[Specialty]struct {
	lo, hi int
	mode   float64
}{
	Cardiology:  {30, 96, 0.6},
	Internal:    {18, 96, 0.68},
	Surgery:     {16, 92, 0.55},
	SurgeryMix:  {16, 92, 0.6},
	Orthopedics: {16, 95, 0.65},
	ObGyn:       {20, 45, 0.35},
	Pediatrics:  {0, 14, 0},
	Dental:      {4, 85, 0.4},
}

// maleShare is the share of men among a specialty's patients.
var maleShare = map[Specialty]float64{
	Cardiology: 0.58, Internal: 0.53, Surgery: 0.5, SurgeryMix: 0.52, Orthopedics: 0.47, ObGyn: 0, Pediatrics: 0.56, Dental: 0.5,
}

// surnames with rough relative frequencies; two-character surnames are rare.
var surnames = []struct {
	s string
	w int
}{
	{"王", 72}, {"李", 71}, {"张", 68}, {"刘", 54}, {"陈", 45}, {"杨", 31}, {"黄", 23}, {"赵", 20}, {"吴", 20}, {"周", 19},
	{"徐", 15}, {"孙", 15}, {"马", 12}, {"朱", 12}, {"胡", 11}, {"郭", 11}, {"何", 10}, {"高", 10}, {"林", 10}, {"罗", 9},
	{"郑", 9}, {"梁", 8}, {"谢", 7}, {"宋", 6}, {"唐", 6}, {"许", 6}, {"韩", 6}, {"冯", 5}, {"邓", 5}, {"曹", 5},
	{"彭", 5}, {"曾", 5}, {"肖", 5}, {"田", 5}, {"董", 5}, {"袁", 4}, {"潘", 4}, {"于", 4}, {"蒋", 4}, {"蔡", 4},
	{"余", 4}, {"杜", 4}, {"叶", 4}, {"程", 4}, {"苏", 3}, {"魏", 3}, {"吕", 3}, {"丁", 3}, {"任", 3}, {"沈", 3},
	{"姚", 3}, {"卢", 3}, {"姜", 3}, {"崔", 3}, {"钟", 3}, {"谭", 3}, {"陆", 3}, {"汪", 3}, {"范", 3}, {"金", 3},
	{"石", 2}, {"廖", 2}, {"贾", 2}, {"夏", 2}, {"韦", 2}, {"付", 2}, {"方", 2}, {"白", 2}, {"邹", 2}, {"孟", 2},
	{"熊", 2}, {"秦", 2}, {"邱", 2}, {"江", 2}, {"尹", 2}, {"薛", 2}, {"闫", 2}, {"段", 2}, {"雷", 2}, {"侯", 2},
	{"龙", 1}, {"史", 1}, {"陶", 1}, {"黎", 1}, {"贺", 1}, {"顾", 1}, {"毛", 1}, {"郝", 1}, {"龚", 1}, {"邵", 1},
	{"万", 1}, {"钱", 1}, {"严", 1}, {"覃", 1}, {"武", 1}, {"戴", 1}, {"莫", 1}, {"孔", 1}, {"向", 1}, {"汤", 1},
	{"欧阳", 1}, {"司马", 1}, {"上官", 1}, {"诸葛", 1}, {"东方", 1}, {"皇甫", 1}, {"令狐", 1}, {"慕容", 1}, {"尉迟", 1}, {"公孙", 1},
}

// Given-name characters; the neutral ones serve both sexes.
var (
	maleChars    = []rune("伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆帅旭宁龙林阳建国志文海东峰兵庆福德成民永胜忠喜")
	femaleChars  = []rune("芳娜敏静丽艳娟霞秀英玲桂兰燕萍红梅琳雪婷慧莉倩颖洁佳悦欣怡晶璐琴云凤淑珍华玉芬春花")
	neutralChars = []rune("文子晨雨嘉思一明安宁心诗睿博晓春")
)

// region is a district: code (GB/T 2260) and the names that start an
// address there.
type region struct {
	code, province, city, district string
}

var regions = []region{
	{"110101", "北京市", "", "东城区"},
	{"110105", "北京市", "", "朝阳区"},
	{"110108", "北京市", "", "海淀区"},
	{"120104", "天津市", "", "南开区"},
	{"130102", "河北省", "石家庄市", "长安区"},
	{"140105", "山西省", "太原市", "小店区"},
	{"210102", "辽宁省", "沈阳市", "和平区"},
	{"220102", "吉林省", "长春市", "南关区"},
	{"230103", "黑龙江省", "哈尔滨市", "南岗区"},
	{"310104", "上海市", "", "徐汇区"},
	{"310115", "上海市", "", "浦东新区"},
	{"320102", "江苏省", "南京市", "玄武区"},
	{"320506", "江苏省", "苏州市", "吴中区"},
	{"330106", "浙江省", "杭州市", "西湖区"},
	{"330203", "浙江省", "宁波市", "海曙区"},
	{"340104", "安徽省", "合肥市", "蜀山区"},
	{"350203", "福建省", "厦门市", "思明区"},
	{"360102", "江西省", "南昌市", "东湖区"},
	{"370102", "山东省", "济南市", "历下区"},
	{"370202", "山东省", "青岛市", "市南区"},
	{"410105", "河南省", "郑州市", "金水区"},
	{"420106", "湖北省", "武汉市", "武昌区"},
	{"430104", "湖南省", "长沙市", "岳麓区"},
	{"440106", "广东省", "广州市", "天河区"},
	{"440304", "广东省", "深圳市", "福田区"},
	{"450103", "广西壮族自治区", "南宁市", "青秀区"},
	{"500103", "重庆市", "", "渝中区"},
	{"510107", "四川省", "成都市", "武侯区"},
	{"520102", "贵州省", "贵阳市", "南明区"},
	{"530102", "云南省", "昆明市", "五华区"},
	{"610113", "陕西省", "西安市", "雁塔区"},
	{"620102", "甘肃省", "兰州市", "城关区"},
}

var streets = []string{
	"人民路", "解放路", "中山路", "建设路", "和平路", "新华路", "胜利路", "文化路", "光明路", "朝阳路",
	"青年路", "长江路", "黄河路", "东风路", "迎宾路", "健康路", "学府路", "幸福路", "建国路", "友谊路",
	"滨江大道", "花园街", "工农路", "团结路", "民主街", "育才路", "春晖路", "振兴大街", "丰收路", "金桥路",
}

var estates = []string{"阳光花园", "锦绣家园", "翠苑小区", "金色港湾", "幸福里", "和谐家园", "书香苑", "东方明珠小区", "世纪新城", "丽景湾"}

var employers = []string{
	"市第一中学", "市实验小学", "市自来水公司", "市供电公司", "市机械厂", "市交通运输局", "市第三建筑公司", "区人民政府",
	"市农业银行支行", "市邮政分公司", "市纺织厂", "市公交集团", "市燃气公司", "区卫生服务中心", "市物流公司", "市商贸城",
	"个体经营", "自由职业", "务农", "市软件园某科技公司", "市食品公司", "区税务局", "市第二中学", "市电视台",
}

// mobilePrefixes are the three-digit prefixes of mainland mobile numbers.
var mobilePrefixes = []string{
	"130", "131", "132", "133", "134", "135", "136", "137", "138", "139",
	"150", "151", "152", "153", "155", "156", "157", "158", "159",
	"173", "175", "176", "177", "178",
	"180", "181", "182", "183", "184", "185", "186", "187", "188", "189",
	"191", "193", "195", "198", "199",
}
