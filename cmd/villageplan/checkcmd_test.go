package main

import (
	"strings"
	"testing"

	"villageplan/internal/siting"
)

// TestPrintTextPlaceholderNote: a rule that used a placeholder limit
// prints its note under the rule line; a rule without one prints none.
func TestPrintTextPlaceholderNote(t *testing.T) {
	zero, two := 0.0, 2.0
	res := &siting.Result{Verdict: siting.Block, Placeholders: true, Rules: []siting.RuleResult{
		{Code: "power_line", TitleZH: "电力线路保护区内不得兴建建筑物", Outcome: siting.Pass, MessageZH: "120 米内无电力线路"},
		{Code: "water_pipeline", TitleZH: "供水管道安全保护范围内不得修建建筑物", Outcome: siting.Block, Measured: &zero, Threshold: &two, Unit: "m",
			MessageZH: "距配水管（大营村配水管1）管壁 0.00 米", Placeholder: true, PlaceholderNote: "配水管暂按两侧各 2 米"},
	}}
	var b strings.Builder
	printText(&b, res)
	out := b.String()
	lines := strings.Split(out, "\n")
	if !strings.HasPrefix(lines[0], "选址：BLOCK 禁止") || !strings.Contains(out, "PASS        通过") {
		t.Errorf("verdict and outcomes not in the one vocabulary (siting.Outcome.ZH):\n%s", out)
	}
	for i, l := range lines {
		if strings.Contains(l, "供水管道安全保护范围") {
			if i+1 >= len(lines) || !strings.Contains(lines[i+1], "暂定限值：配水管暂按两侧各 2 米") {
				t.Errorf("no placeholder note under the pipe rule:\n%s", out)
			}
		}
	}
	if strings.Count(out, "暂定限值") != 1 || !strings.Contains(out, "0.00 m") || !strings.Contains(out, "注意：使用了待本地确认的暂定数值") {
		t.Errorf("output:\n%s", out)
	}
}
