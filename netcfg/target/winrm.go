package target

import (
	"context"
	"errors"
)

// dialWinRM is filled in by the WinRM transport.
func dialWinRM(ctx context.Context, u *URL, s Settings) (transport, error) {
	return nil, errors.New("winrm: not yet implemented")
}
