package explore

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/kbharness/kbharness/fixtures"
	"github.com/kbharness/kbharness/netcfg"
)

// ReplayFile is the replayable fixture a failing exploration is printed as
// (`kbharness explore --replay FILE`). It is strict YAML, decoded with
// fixtures.Decode, and every step is checked in full against what the
// explorer can generate on the lab.
type ReplayFile struct {
	// Lab is the lab topology: an embedded lab name ("multihomed") or a path.
	Lab string `yaml:"lab" fixture:"required"`
	// Seed is the explorer seed that found the sequence (for the record;
	// the replay reports it). Any value.
	Seed uint64 `yaml:"seed"`
	// Injectors were active when the failure was found (suites/framework/inject names).
	Injectors []string `yaml:"injectors,omitempty"`
	// Steps are the operations, in order, from the bare lab: 1 to MaxSeqLen
	// (100), each one the explorer's universe of the lab holds
	// (DefaultUniverse), each applicable after the ones before it.
	Steps []Op `yaml:"steps" fixture:"required"`
	// Failure is what the explorer reported (for the record; replay re-checks).
	Failure string `yaml:"failure,omitempty"`
}

// Validate checks the file: the lab loads; 1 to MaxSeqLen steps; each step
// valid on its own (Op.Validate), one the explorer can generate on the lab
// (an element of DefaultUniverse: the addresses, routes and gateways it
// derives from the lab's links), and applicable from the bare lab in order
// (no add of a present element, no delete of an absent one). Errors are
// *fixtures.FieldError values naming the field, e.g. steps[3].address.
func (r *ReplayFile) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &fixtures.FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	if err := fixtures.CheckLen("steps", len(r.Steps), 1, MaxSeqLen); err != nil {
		errs = append(errs, err)
	}
	for i, n := range r.Injectors {
		if strings.TrimSpace(n) == "" {
			bad(fmt.Sprintf("injectors[%d]", i), "empty injector name")
		}
	}
	var u *Universe
	if r.Lab != "" {
		f, err := fixtures.LoadLab(r.Lab)
		if err == nil {
			var uu Universe
			if uu, err = DefaultUniverse(f, StepMechanisms); err == nil {
				u = &uu
			}
		}
		if err != nil {
			bad("lab", "%v", err)
		}
	}
	var c Config
	for i, o := range r.Steps {
		step := fmt.Sprintf("steps[%d]", i)
		if err := o.Validate(); err != nil {
			for _, e := range leaves(err) {
				var fe *fixtures.FieldError
				if errors.As(e, &fe) {
					bad(step+"."+fe.Field, "%s", fe.Msg)
				} else {
					bad(step, "%v", e)
				}
			}
			continue
		}
		if u != nil {
			if fe := u.check(r.Lab, o); fe != nil {
				bad(step+"."+fe.Field, "%s", fe.Msg)
				continue
			}
		}
		next, err := c.Apply(o)
		if err != nil {
			bad(step, "%v", err)
			continue
		}
		c = next
	}
	return errors.Join(errs...)
}

// check says which field of a valid step names something the explorer
// does not generate on the lab the universe was derived from.
func (u Universe) check(lab string, o Op) *fixtures.FieldError {
	var ifs, addrs, dsts []string
	routes := map[string]netcfg.RouteSpec{} // by dst
	for _, a := range u.Addresses {
		if !slices.Contains(ifs, a.Interface) {
			ifs = append(ifs, a.Interface)
		}
		if a.Interface == o.Interface {
			addrs = append(addrs, a.Prefix.String())
		}
	}
	for _, rt := range u.Routes {
		if !slices.Contains(ifs, rt.Interface) {
			ifs = append(ifs, rt.Interface)
		}
		if rt.Interface == o.Interface {
			dsts = append(dsts, rt.Dst.String())
			routes[rt.Dst.String()] = rt
		}
	}
	switch {
	case !slices.Contains(ifs, o.Interface):
		return &fixtures.FieldError{Field: "interface", Msg: fmt.Sprintf("%q is not an interface of lab %s (have %s)", o.Interface, lab, strings.Join(ifs, ", "))}
	case o.IsAddress():
		if !slices.Contains(addrs, o.Address.String()) {
			return &fixtures.FieldError{Field: "address", Msg: fmt.Sprintf("%s is not an address the explorer adds to %s in lab %s (it adds %s)", o.Address, o.Interface, lab, strings.Join(addrs, ", "))}
		}
	default:
		rt, ok := routes[o.Dst.String()]
		if !ok {
			return &fixtures.FieldError{Field: "dst", Msg: fmt.Sprintf("%s is not a destination the explorer routes via %s in lab %s (it routes %s)", o.Dst, o.Interface, lab, strings.Join(dsts, ", "))}
		}
		if rt.Gateway != o.Gateway {
			return &fixtures.FieldError{Field: "gateway", Msg: fmt.Sprintf("%s: the explorer's route to %s on %s goes via %s", o.Gateway, o.Dst, o.Interface, rt.Gateway)}
		}
	}
	return nil
}

// leaves flattens errors.Join trees.
func leaves(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, leaves(e)...)
		}
		return out
	}
	return []error{err}
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
