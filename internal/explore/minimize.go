package explore

import "context"

// minimize makes a failing sequence 1-minimal after rapid's shrinking:
// rapid deletes draws within a time budget, and each failing replay costs
// its quiet windows, so it can stop with steps that do not matter. This
// pass drops one step at a time (an add together with the later steps on
// its element, so the sequence stays valid) and keeps every drop after
// which the host still fails the oracle. It costs at most one replay per
// step and round, and returns the shortest failing sequence with its
// failure.
func (r *runner) minimize(ctx context.Context, ops []Op, f *Failure, count func()) ([]Op, *Failure, error) {
	for changed := true; changed; {
		changed = false
		for i := range ops {
			cand := without(ops, i)
			if !valid(cand) {
				continue
			}
			got, err := r.sequence(ctx, cand, count)
			if err != nil {
				if _, isOp := err.(*OpError); isOp {
					continue // a different finding: keep to the oracle failure
				}
				return ops, f, err
			}
			if got != nil {
				ops, f, changed = cand, got, true
				break
			}
		}
	}
	return ops, f, nil
}

// without drops step i, and when it adds, the later steps on its element.
func without(ops []Op, i int) []Op {
	out := append([]Op(nil), ops[:i]...)
	e := ops[i].Element()
	for _, o := range ops[i+1:] {
		if ops[i].IsAdd() && o.Element().Key() == e.Key() {
			continue
		}
		out = append(out, o)
	}
	return out
}

// valid reports whether every step applies to the configuration before it.
func valid(ops []Op) bool {
	if len(ops) == 0 {
		return false
	}
	var c Config
	for _, o := range ops {
		next, err := c.Apply(o)
		if err != nil {
			return false
		}
		c = next
	}
	return true
}
