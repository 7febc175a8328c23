package web

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"testing"

	"suifang/internal/access"
	"suifang/internal/auth"
	"suifang/internal/mllpauth"
)

func TestMLLPSendersPage(t *testing.T) {
	e := newPageEnv(t)
	ctx := context.Background()
	admin := e.login("admin", adminPW)

	want(t, admin.get("/admin/mllp-senders"), 200, "白名单为空", "HL7 接口白名单", "没有被拒绝的消息")
	// A mistake re-displays the form with the input kept and the field marked.
	r := admin.post("/admin/mllp-senders", url.Values{"institution": {"H1"}, "cidr": {"10.1.2.5/24"}, "app": {"HIS"}, "facility": {"H01"}})
	want(t, r, http.StatusUnprocessableEntity, "网段的主机位须为 0", `value="10.1.2.5/24"`, `id="cidr" name="cidr"`, `aria-invalid="true"`, `value="HIS"`)
	r = admin.post("/admin/mllp-senders", url.Values{"institution": {"H1"}, "cidr": {"10.1.2.0/24"}, "app": {"HIS"}, "facility": {"H01"},
		"note": {"东院集成平台"}})
	want(t, r, 200, "已允许该发送方", "<code>10.1.2.0/24</code>", "东院集成平台")
	wantNot(t, r, "白名单为空")
	want(t, admin.post("/admin/mllp-senders", url.Values{"institution": {"H1"}, "cidr": {"10.1.2.0/24"}, "app": {"HIS"}, "facility": {"H01"}}),
		http.StatusUnprocessableEntity, "已在这家医院的白名单中")

	// A refusal shows up, its sender text escaped.
	if _, err := e.senders.Refused(ctx, mllpauth.Attempt{Remote: netip.MustParseAddr("10.66.0.5"), App: "<b>EVIL</b>", Facility: "H2"},
		mllpauth.RefusedAddress); err != nil {
		t.Fatal(err)
	}
	r = admin.get("/admin/mllp-senders")
	want(t, r, 200, "<code>10.66.0.5</code>", "&lt;b&gt;EVIL&lt;/b&gt;")
	wantNot(t, r, "<b>EVIL</b>")

	list, err := e.senders.List(ctx, access.System())
	if err != nil || len(list) != 1 {
		t.Fatalf("list %v %v", list, err)
	}
	want(t, admin.post(fmt.Sprintf("/admin/mllp-senders/%d/revoke", list[0].ID), nil), 200, "已吊销该发送方", "白名单为空")

	// Only system administrators see or change the list.
	if _, err := e.auth.CreateUser(ctx, access.System(), auth.UserInput{Username: "quality1", DisplayName: "质控科", Password: "Zhikong-2026",
		HomeInstitutionID: e.h1, Roles: []access.Role{access.Quality}, Active: true,
		Grants: []access.Grant{{InstitutionID: e.h1}}}); err != nil {
		t.Fatal(err)
	}
	q := e.login("quality1", "Zhikong-2026")
	want(t, q.get("/admin/mllp-senders"), 403)
	want(t, q.post("/admin/mllp-senders", url.Values{"institution": {"H1"}, "cidr": {"10.9.9.0/24"}}), 403)
	if list, _ := e.senders.List(ctx, access.System()); len(list) != 0 {
		t.Errorf("a quality user added a sender: %v", list)
	}

	u, _ := url.Parse(e.srv.URL)
	admin.c.Jar.SetCookies(u, []*http.Cookie{{Name: "lang", Value: "en", Path: "/"}})
	want(t, admin.get("/admin/mllp-senders"), 200, "HL7 senders", "The allow-list is empty", "Allow a sender")
}
