package web

import (
	"fmt"
	"html"
	"html/template"
	"strings"

	"suifang/internal/survey"
)

// SVG bar charts for the results page, drawn in Go: no script, no chart
// library, and they print. Colours come from classes in app.css.

// bar is one labelled bar with a value out of 100 and a caption.
type bar struct {
	Label   string
	Value   int // 0–100; negative draws no bar ("no data")
	Caption string
	Class   string
}

// barChart draws horizontal bars, one per row, with the label on the left.
func barChart(title string, bars []bar) template.HTML {
	const rowH, labelW, barW, capW = 26, 190, 360, 120
	h := rowH*len(bars) + 8
	w := labelW + barW + capW
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s">`, w, h, w, h, html.EscapeString(title))
	fmt.Fprintf(&b, `<title>%s</title>`, html.EscapeString(title))
	for i, br := range bars {
		y := 4 + i*rowH
		label := []rune(br.Label)
		if len(label) > 14 {
			label = append(label[:13], '…')
		}
		fmt.Fprintf(&b, `<text class="chart-label" x="%d" y="%d" text-anchor="end">%s</text>`, labelW-8, y+17, html.EscapeString(string(label)))
		fmt.Fprintf(&b, `<rect class="chart-track" x="%d" y="%d" width="%d" height="18" rx="3"/>`, labelW, y+4, barW)
		if br.Value >= 0 {
			cls := "chart-bar"
			if br.Class != "" {
				cls += " " + br.Class
			}
			fmt.Fprintf(&b, `<rect class="%s" x="%d" y="%d" width="%d" height="18" rx="3"/>`, cls, labelW, y+4, barW*min(br.Value, 100)/100)
		}
		fmt.Fprintf(&b, `<text class="chart-cap" x="%d" y="%d">%s</text>`, labelW+barW+8, y+17, html.EscapeString(br.Caption))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // every text above is escaped
}

// resultCharts are the results page's charts: response rate by channel,
// satisfaction split, and the average score of each scored item.
func resultCharts(s *Server, lang string, r *survey.Results) map[string]template.HTML {
	out := map[string]template.HTML{}
	var ch []bar
	for _, c := range r.Channels {
		ch = append(ch, bar{Label: s.cat.T(lang, "fu.ch."+c.Channel), Value: c.Rate(),
			Caption: fmt.Sprintf("%d%% · %d/%d", max(c.Rate(), 0), c.Answered, c.Invited)})
	}
	if len(ch) > 0 {
		out["channels"] = barChart(s.cat.T(lang, "svr.by_channel"), ch)
	}
	n := r.Satisfied + r.Basically + r.Unsatisfied
	if n > 0 {
		share := func(k int) int { return (k*100 + n/2) / n }
		out["satisfaction"] = barChart(s.cat.T(lang, "svr.satisfaction_split"), []bar{
			{Label: s.cat.T(lang, "sv.opt.satisfied"), Value: share(r.Satisfied), Caption: fmt.Sprintf("%d%% · %d", share(r.Satisfied), r.Satisfied), Class: "good"},
			{Label: s.cat.T(lang, "sv.opt.basically"), Value: share(r.Basically), Caption: fmt.Sprintf("%d%% · %d", share(r.Basically), r.Basically), Class: "mid"},
			{Label: s.cat.T(lang, "sv.opt.dissatisfied"), Value: share(r.Unsatisfied), Caption: fmt.Sprintf("%d%% · %d", share(r.Unsatisfied), r.Unsatisfied), Class: "bad"},
		})
	}
	var items []bar
	for _, it := range r.Items {
		if it.Max == 0 {
			continue
		}
		sc := it.Score()
		cls := "good"
		switch {
		case sc < 60:
			cls = "bad"
		case sc < 85:
			cls = "mid"
		}
		items = append(items, bar{Label: it.Text, Value: sc, Caption: fmt.Sprintf("%d · n=%d", sc, it.Answered), Class: cls})
	}
	if len(items) > 0 {
		out["items"] = barChart(s.cat.T(lang, "svr.item_scores"), items)
	}
	return out
}
