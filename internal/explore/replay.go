package explore

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/kbharness/kbharness/fixtures"
)

// ReplayFile is the replayable fixture a failing exploration is printed as
// (`kbharness explore --replay FILE`). It is strict YAML, decoded with
// fixtures.Decode.
type ReplayFile struct {
	// Lab is the lab topology: an embedded lab name ("multihomed") or a path.
	Lab string `yaml:"lab" fixture:"required"`
	// Seed is the explorer seed that found the sequence (for the record).
	Seed uint64 `yaml:"seed"`
	// Injectors were active when the failure was found (suites/framework/inject names).
	Injectors []string `yaml:"injectors,omitempty"`
	// Steps are the operations, in order, from the bare lab.
	Steps []Op `yaml:"steps" fixture:"required"`
	// Failure is what the explorer reported (for the record; replay re-checks).
	Failure string `yaml:"failure,omitempty"`
}

// Validate checks every step and that the sequence is applicable from the
// bare lab (no add of a present element, no delete of an absent one).
func (r *ReplayFile) Validate() error {
	var errs []error
	if len(r.Steps) == 0 {
		errs = append(errs, &fixtures.FieldError{Field: "steps", Msg: "no steps"})
	}
	var c Config
	for i, o := range r.Steps {
		if err := o.Validate(); err != nil {
			var fe *fixtures.FieldError
			if errors.As(err, &fe) {
				errs = append(errs, &fixtures.FieldError{Field: fmt.Sprintf("steps[%d].%s", i, fe.Field), Msg: fe.Msg})
			}
			continue
		}
		next, err := c.Apply(o)
		if err != nil {
			errs = append(errs, &fixtures.FieldError{Field: fmt.Sprintf("steps[%d]", i), Msg: err.Error()})
			continue
		}
		c = next
	}
	return errors.Join(errs...)
}

// EncodeReplay renders a replay fixture with a header comment.
func EncodeReplay(r Repro, injectors []string) ([]byte, error) {
	f := ReplayFile{Lab: r.Lab, Seed: r.Seed, Injectors: injectors, Steps: r.Ops}
	if r.Failure != nil {
		f.Failure = r.Failure.String()
	}
	body, err := yaml.Marshal(&f)
	if err != nil {
		return nil, fmt.Errorf("encoding the replay fixture: %w", err)
	}
	head := "# kbharness explorer replay: kbharness explore --replay THIS_FILE\n"
	return append([]byte(head), body...), nil
}

// DecodeReplay strictly decodes a replay fixture; errors name file, line and field.
func DecodeReplay(file string, data []byte) (*ReplayFile, error) {
	var r ReplayFile
	if err := fixtures.Decode(file, data, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// LoadReplay reads and decodes a replay fixture file.
func LoadReplay(path string) (*ReplayFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("loading replay: %w", err)
	}
	return DecodeReplay(path, data)
}

// FormatOps renders a sequence one step a line, for progress and reports.
func FormatOps(ops []Op) string {
	var b strings.Builder
	for i, o := range ops {
		fmt.Fprintf(&b, "  %d. %s\n", i+1, o)
	}
	return b.String()
}
