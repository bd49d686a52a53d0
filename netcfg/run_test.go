package netcfg

import (
	"errors"
	"testing"
)

// TestRetryStart: a transient start failure is tried again up to
// startAttempts times; a command that ran and failed, or another start
// failure, is not.
func TestRetryStart(t *testing.T) {
	transient := errors.New("transient")
	for _, tc := range []struct {
		name      string
		errs      []error // run's answers in turn
		wantCalls int
		wantErr   error
	}{
		{"transient, then ok", []error{&CommandError{Err: transient}, nil}, 2, nil},
		{"transient every time", []error{&CommandError{Err: transient}, &CommandError{Err: transient}, &CommandError{Err: transient}, nil}, startAttempts, transient},
		{"exit status", []error{&CommandError{Output: Output{ExitCode: 1}}, nil}, 1, &CommandError{}},
		{"other start failure", []error{&CommandError{Err: errors.New("not found")}, nil}, 1, &CommandError{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			_, err := retryStart(func() (Output, error) {
				calls++
				return Output{}, tc.errs[calls-1]
			}, func(err error) bool { return errors.Is(err, transient) })
			if calls != tc.wantCalls {
				t.Errorf("run called %d times, want %d", calls, tc.wantCalls)
			}
			if (err == nil) != (tc.wantErr == nil) || (tc.wantErr == transient && !errors.Is(err, transient)) {
				t.Errorf("got %v, want %v", err, tc.wantErr)
			}
		})
	}
}
