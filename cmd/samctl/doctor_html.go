package main

import (
	"fmt"
	"html/template"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/samkit/samkit/sam"
)

// The doctor's page is one file with no external assets (no script, no
// font, no image), so that it can be mailed or opened offline; html/template
// escapes every server text in it.

type htmlFinding struct {
	sam.Finding
	When string
}

// htmlMark is one entry of the timeline: the findings of one kind and
// severity that fall due on one day, so that 500 relationships ending
// together make one line, not 500.
type htmlMark struct {
	Severity sam.Severity
	Label    string
	// At is the entry's place on the timeline, in percent of the window
	// from the left; in the right half the label is anchored by its end
	// (From is then "right" and At counts from the right edge), so that it
	// stays inside the frame.
	From string
	At   float64
	when time.Time
	n    int
	kind string
	// where is the one place, while n is 1.
	where string
}

func (m *htmlMark) label() string {
	if m.n == 1 {
		return m.when.Format(time.DateOnly) + " " + m.where + ": " + m.kind
	}
	return fmt.Sprintf("%s %s: %d findings", m.when.Format(time.DateOnly), m.kind, m.n)
}

type htmlPage struct {
	Checked  string
	Within   int
	Tenants  int
	Broken   int
	Findings []htmlFinding
	// Timeline is the dated findings, the soonest first.
	Timeline []*htmlMark
}

var doctorPage = template.Must(template.New("doctor").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>samctl doctor {{.Checked}}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;width:100%}
th,td{border-bottom:1px solid #ddd;padding:.4em;text-align:left;vertical-align:top}
.broken{color:#b00020;font-weight:bold}.warning{color:#a65e00;font-weight:bold}
code{background:#f4f4f4;padding:0 .2em}
#timeline{position:relative;height:{{len .Timeline}}.5em;min-height:3em;border-left:2px solid #222;border-bottom:2px solid #222;margin:1em 0 3em}
#timeline li{position:absolute;list-style:none;white-space:nowrap;font-size:12px}
#timeline li::before,#timeline li.right::after{content:"";display:inline-block;width:.7em;height:.7em;border-radius:50%;background:currentColor;margin-right:.3em}
#timeline li.right::before{content:none}#timeline li.right::after{margin:0 0 0 .3em}
</style></head><body>
<h1>samctl doctor</h1>
<p>Checked {{.Checked}} over {{.Tenants}} tenants, looking {{.Within}} days ahead:
{{.Broken}} broken now, {{len .Findings}} findings in all.</p>
<h2>Timeline of what expires</h2>
<ol id="timeline">{{range $i, $f := .Timeline}}
<li class="{{$f.Severity}} {{$f.From}}" style="{{$f.From}}:{{$f.At}}%;top:{{$i}}em">{{$f.Label}}</li>{{end}}
</ol>
<h2>Findings</h2>
<table id="findings"><thead><tr><th>Severity</th><th>When</th><th>Where</th><th>What</th><th>Fix</th></tr></thead><tbody>{{range .Findings}}
<tr><td class="{{.Severity}}">{{.Severity}}</td><td>{{.When}}</td><td>{{.Where}}</td><td>{{.What}}</td><td><code>{{.Fix}}</code></td></tr>{{else}}
<tr><td colspan="5">Healthy: nothing is broken and nothing breaks within the window.</td></tr>{{end}}
</tbody></table>
</body></html>
`))

// writeDoctorHTML renders rep as one self-contained page.
func writeDoctorHTML(w io.Writer, rep *sam.DoctorReport) error {
	p := htmlPage{Checked: rep.Checked.Format(time.DateTime), Within: int(rep.Within.Hours() / 24), Tenants: rep.Tenants}
	type day struct {
		date     string
		kind     string
		severity sam.Severity
	}
	marks := map[day]*htmlMark{}
	for _, f := range rep.Findings {
		h := htmlFinding{Finding: f, When: "now"}
		if f.Severity == sam.SeverityBroken {
			p.Broken++
		}
		if !f.When.IsZero() {
			h.When = f.When.Format(time.DateOnly)
			k := day{h.When, f.Kind, f.Severity}
			m := marks[k]
			if m == nil {
				m = &htmlMark{Severity: f.Severity, From: "left", when: f.When, kind: f.Kind, where: f.Where}
				m.At = min(max(float64(f.When.Sub(rep.Checked))/float64(rep.Within), 0), 1) * 100
				if m.At > 50 {
					m.From, m.At = "right", 100-m.At
				}
				marks[k] = m
				p.Timeline = append(p.Timeline, m)
			}
			m.n++
		}
		p.Findings = append(p.Findings, h)
	}
	for _, m := range p.Timeline {
		m.Label = m.label()
	}
	slices.SortStableFunc(p.Timeline, func(a, b *htmlMark) int { return a.when.Compare(b.when) })
	return doctorPage.Execute(w, p)
}

// saveDoctorHTML writes the page to path, replacing it whole.
func saveDoctorHTML(path string, rep *sam.DoctorReport) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".doctor-*.html")
	if err != nil {
		return fmt.Errorf("writing the doctor's page: %w", err)
	}
	defer os.Remove(f.Name())
	if err := writeDoctorHTML(f, rep); err != nil {
		f.Close()
		return fmt.Errorf("writing the doctor's page: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing the doctor's page: %w", err)
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return fmt.Errorf("writing the doctor's page: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("writing the doctor's page: %w", err)
	}
	return nil
}
