package explore

import (
	"pgregory.net/rapid"
)

// Sequences generates applicable operation sequences of 1 to maxLen steps
// over the universe, from the bare lab. Each step draws a kind among the
// applicable ones (add-address, delete-address, add-route, delete-route),
// an element among those the kind applies to, and a mechanism; rapid shrinks
// towards shorter sequences, earlier kinds, earlier elements and the first
// mechanism.
func Sequences(u Universe, maxLen int) *rapid.Generator[[]Op] {
	return rapid.Custom(func(t *rapid.T) []Op {
		n := rapid.IntRange(1, maxLen).Draw(t, "steps")
		var (
			c   Config
			ops []Op
		)
		for range n {
			o := nextOp(t, u, c)
			next, err := c.Apply(o)
			if err != nil {
				t.Fatalf("generator drew an inapplicable step: %v", err)
			}
			c = next
			ops = append(ops, o)
		}
		return ops
	})
}

// Candidates returns, per kind applicable in c, the elements it applies to.
func Candidates(u Universe, c Config) (kinds []Kind, elems map[Kind][]Element) {
	elems = map[Kind][]Element{}
	for _, e := range u.Elements() {
		present := c.Has(e)
		var k Kind
		switch {
		case e.Address != nil && !present:
			k = AddAddress
		case e.Address != nil:
			k = DeleteAddress
		case !present:
			k = AddRoute
		default:
			k = DeleteRoute
		}
		elems[k] = append(elems[k], e)
	}
	for _, k := range Kinds {
		if len(elems[k]) > 0 {
			kinds = append(kinds, k)
		}
	}
	return kinds, elems
}

func nextOp(t *rapid.T, u Universe, c Config) Op {
	kinds, elems := Candidates(u, c)
	k := rapid.SampledFrom(kinds).Draw(t, "kind")
	e := rapid.SampledFrom(elems[k]).Draw(t, "element")
	m := rapid.SampledFrom(u.Mechanisms).Draw(t, "mechanism")
	return e.Op(k == AddAddress || k == AddRoute, m)
}
