package imports

// Steps of the check and load phases, as reported in Progress.Step.
const (
	StepBuild    = "building geometries"      // check: parse, assemble rings, reproject (PostGIS)
	StepCheck    = "checking geometries"      // check: emptiness, rings, CRS area, validity
	StepAreas    = "comparing declared areas" // check: 界址点 地块面积 against the measured area
	StepDelete   = "deleting the old features"
	StepInsert   = "inserting"
	StepRecord   = "recording the source"
	StepCoverage = "recording the coverage"
	StepCommit   = "committing"
	StepRollBack = "rolling back (dry run)"
)

// steps lists the steps of a phase in the order they run.
func (ld *loader) steps(phase string) []string {
	switch phase {
	case "check":
		return []string{StepBuild, StepCheck, StepAreas}
	case "load":
		var s []string
		if ld.opts.Mode == Replace {
			s = append(s, StepDelete)
		}
		s = append(s, StepInsert, StepRecord, StepCoverage)
		if ld.opts.DryRun {
			return append(s, StepRollBack)
		}
		return append(s, StepCommit)
	}
	return nil
}

// step reports the start of one step of the check or load phase.
func (ld *loader) step(phase, name string) {
	st := ld.steps(phase)
	no := 0
	for i, s := range st {
		if s == name {
			no = i + 1
		}
	}
	ld.progress(Progress{Phase: phase, Step: name, StepNo: no, Steps: len(st), Features: ld.sum.Read})
}

// done reports the end of the import.
func (ld *loader) done() {
	ld.progress(Progress{Phase: "done", Features: ld.sum.Read, Loaded: ld.sum.Loaded})
}
