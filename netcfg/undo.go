package netcfg

import "context"

// UndoCommand is a command that undoes a change a mechanism has just made,
// where only the mechanism knows how: DeleteIPAddress needs the NTE
// context AddIPAddress returned. Guard, if set, is the address the command
// deletes: it runs only while that address is there.
type UndoCommand struct {
	Undoes string
	Argv   []string
	Guard  *AddressSpec
}

type undoRecorderKey struct{}

// WithUndoRecorder returns a context whose changes hand their UndoCommands
// to record (the undo journal does this around every change).
func WithUndoRecorder(ctx context.Context, record func(UndoCommand) error) context.Context {
	return context.WithValue(ctx, undoRecorderKey{}, record)
}

// RecordUndo hands u to the context's recorder, if any.
func RecordUndo(ctx context.Context, u UndoCommand) error {
	if record, ok := ctx.Value(undoRecorderKey{}).(func(UndoCommand) error); ok {
		return record(u)
	}
	return nil
}
