package main

import (
	"context"
	"os"
	"runtime"
	"strings"
	"testing"
)

func TestHammerUsage(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		code     int
		inOutput string
	}{
		{[]string{"hammer", "--help"}, exitOK, "Usage: kbharness hammer"},
		{[]string{"hammer", "--mode", "fast", "--count", "1"}, exitUsage, `unknown mode "fast"`},
		{[]string{"hammer", "--range", "9-8"}, exitUsage, `--range "9-8"`},
		{[]string{"hammer", "--listen", "8.8.8.8:53"}, exitUsage, "neither loopback nor a lab address"},
		{[]string{"hammer", "--listen", "192.0.2.9", "--allow", "10.0.0.0/8"}, exitUsage, "not in a documentation range"},
		{[]string{"hammer", "--lab", "default", "--target", "netns:x"}, exitUsage, "exclude each other"},
		{[]string{"hammer", "--target", "ssh://root@192.0.2.20"}, exitUsage, "--agent goes with a remote --target"},
		{[]string{"hammer", "--target", "local"}, exitUsage, "want netns:NAME, ssh://"},
		{[]string{"hammer", "--target", "ssh://root:pw@192.0.2.20", "--agent", "x.exe"}, exitUsage, "password in the URL is refused"},
		{[]string{"hammer", "--duration", "0s"}, exitUsage, "neither count nor duration"},
	} {
		code, out, errs := runArgs(t, context.Background(), tc.args...)
		if code != tc.code || !strings.Contains(out+errs, tc.inOutput) {
			t.Errorf("kbharness %q: exit %d, output\n%s%s\nwant exit %d and output containing %q", tc.args, code, out, errs, tc.code, tc.inOutput)
		}
	}
}

func TestHammerLab(t *testing.T) {
	if runtime.GOOS != "linux" || os.Geteuid() != 0 {
		t.Skip("requires root: creates network namespaces")
	}
	code, out, errs := runArgs(t, context.Background(), "hammer", "--lab", "default", "--mode", "bind-connect", "--range", "40000-40255", "--count", "2000")
	if code != exitFailure || !strings.Contains(out, "SIGNATURE:") || !strings.Contains(errs, "KB2901197 signature seen") {
		t.Errorf("positive control: exit %d\n%s%s", code, out, errs)
	}
	code, out, errs = runArgs(t, context.Background(), "hammer", "--lab", "default", "--mode", "bind-no-port", "--range", "40000-40255", "--count", "2000")
	if code != exitOK || strings.Contains(out, "SIGNATURE") || !strings.Contains(out, "addrinuse         0") {
		t.Errorf("negative control: exit %d\n%s%s", code, out, errs)
	}
}
