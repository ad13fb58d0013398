package main

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/samkit/samkit/sam"
)

// doctorReport is a report with one finding broken now, two dated ones and
// server text that must be escaped.
func doctorReport() *sam.DoctorReport {
	checked := time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)
	return &sam.DoctorReport{Checked: checked, Within: 30 * 24 * time.Hour, Tenants: 2, Findings: []sam.Finding{
		{Kind: sam.FindingConsentDrift, Where: "t1", Severity: sam.SeverityBroken, What: `consent drift: <script>alert("x")</script>`, Fix: "samctl consent apply t1"},
		{Kind: sam.FindingStoredSecret, Where: sam.WherePartner, Severity: sam.SeverityWarning, When: checked.AddDate(0, 0, 20), What: "the stored client secret expires", Fix: "samctl rotate-secret"},
		{Kind: sam.FindingGDAPEnding, Where: "t2", Severity: sam.SeverityWarning, When: checked.AddDate(0, 0, 5), What: "GDAP relationship ends", Fix: "renew"},
	}}
}

func TestDoctorHTMLIsSelfContainedAndEscaped(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	require.NoError(t, writeDoctorHTML(&b, doctorReport()))
	page := b.String()
	assert.NotContains(t, page, "<script>", "server text is escaped")
	assert.NotContains(t, page, "ZgotmplZ", "every value fits its context")
	assert.NotRegexp(t, regexp.MustCompile(`(?i)(src|href)\s*=|@import|url\(`), page, "no external asset")
	assert.Equal(t, 3, strings.Count(page, "<tr><td class="), "one row per finding")
	i, j := strings.Index(page, "2026-12-07 t2"), strings.Index(page, "2026-12-22 partner")
	require.True(t, i > 0 && j > 0, "both dated findings are on the timeline:\n%s", page)
	assert.Less(t, i, j, "the timeline is in date order")
	assert.Regexp(t, `style="left:16\.6+\d*%;top:0em">2026-12-07 t2: gdap-ending<`, page, "5 of 30 days: a sixth from the left")
	assert.Regexp(t, `style="right:33\.3+\d*%;top:1em">2026-12-22 partner: stored-secret<`, page, "20 of 30 days: anchored by its end, a third from the right")
}

// TestDoctorHTMLTimelineGroupsADay: findings of one kind falling due on
// one day make one entry of the timeline, with their number; the table
// keeps a row for each.
func TestDoctorHTMLTimelineGroupsADay(t *testing.T) {
	t.Parallel()
	rep := doctorReport()
	end := rep.Checked.AddDate(0, 0, 25)
	for _, tenant := range []string{"t3", "t4", "t5"} {
		rep.Findings = append(rep.Findings, sam.Finding{Kind: sam.FindingGDAPEnding, Where: tenant, Severity: sam.SeverityWarning,
			When: end.Add(time.Duration(len(tenant)) * time.Hour), What: "GDAP relationship ends", Fix: "renew"})
	}
	var b bytes.Buffer
	require.NoError(t, writeDoctorHTML(&b, rep))
	page := b.String()
	assert.Equal(t, 6, strings.Count(page, "<tr><td class="), "one row per finding")
	assert.Equal(t, 3, strings.Count(page, "<li class=\"warning "), "three entries: two single findings and one day of three")
	assert.Contains(t, page, ">2026-12-27 gdap-ending: 3 findings<")
}

// TestDoctorHTMLInChromium renders the page in headless Chromium. Install
// it with 'apt-get install chromium' (Debian) to run this test; it is
// skipped when no chromium binary is on PATH.
func TestDoctorHTMLInChromium(t *testing.T) {
	t.Parallel()
	bin := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		t.Skip("no chromium on PATH: install it with 'apt-get install chromium' (Debian) to render the doctor's page")
	}
	path := filepath.Join(t.TempDir(), "doctor.html")
	require.NoError(t, saveDoctorHTML(path, doctorReport()))
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", "file://"+path).Output()
	require.NoError(t, err, "chromium --dump-dom")
	dom := string(out)
	assert.Contains(t, dom, `id="findings"`)
	assert.Contains(t, dom, `id="timeline"`)
	assert.Equal(t, 3, strings.Count(dom, "<tr><td class="), "the browser sees one row per finding")
	assert.Contains(t, dom, "2026-12-07 t2")
	t.Log("rendered in", bin)
}
