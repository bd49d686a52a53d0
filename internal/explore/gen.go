package explore

import (
	"pgregory.net/rapid"
)

// Choice is one drawn step before it meets a configuration: indexes into
// the kinds applicable at that point, the elements the kind applies to, and
// the mechanisms, each taken modulo the list's length. Drawing choices
// independently of the state lets rapid delete any step of a sequence while
// shrinking and still have an applicable sequence.
type Choice struct{ Kind, Element, Mechanism int }

// Interpret turns choices into the operations they mean from the bare lab.
func Interpret(u Universe, choices []Choice) []Op {
	var (
		c   Config
		ops []Op
	)
	for _, ch := range choices {
		kinds, elems := Candidates(u, c)
		k := kinds[ch.Kind%len(kinds)]
		es := elems[k]
		o := es[ch.Element%len(es)].Op(k == AddAddress || k == AddRoute, u.Mechanisms[ch.Mechanism%len(u.Mechanisms)])
		c, _ = c.Apply(o) // applicable by construction
		ops = append(ops, o)
	}
	return ops
}

// Sequences generates applicable operation sequences of 1 to maxLen steps
// over the universe, from the bare lab. rapid shrinks them by deleting
// steps and lowering each choice towards the first applicable kind
// (add-address, delete-address, add-route, delete-route), the first element
// and the first mechanism.
func Sequences(u Universe, maxLen int) *rapid.Generator[[]Op] {
	choice := rapid.Custom(func(t *rapid.T) Choice {
		return Choice{
			Kind:      rapid.IntRange(0, len(Kinds)-1).Draw(t, "kind"),
			Element:   rapid.IntRange(0, len(u.Addresses)+len(u.Routes)-1).Draw(t, "element"),
			Mechanism: rapid.IntRange(0, len(u.Mechanisms)-1).Draw(t, "mechanism"),
		}
	})
	return rapid.Custom(func(t *rapid.T) []Op {
		return Interpret(u, rapid.SliceOfN(choice, 1, maxLen).Draw(t, "steps"))
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
