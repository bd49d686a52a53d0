package framework

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kbharness/kbharness/netcfg"
	"github.com/kbharness/kbharness/netcfg/lab"
	"github.com/kbharness/kbharness/suites/framework/inject"
)

func TestCheckOptions(t *testing.T) {
	saved := Options
	t.Cleanup(func() { Options = saved })
	file := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	known := strings.Join(inject.Names(), ", ")
	for _, tc := range []struct {
		name                string
		inject, target, dir string
		want                []string // in the error; nil: no error
	}{
		{name: "nothing set"},
		{name: "known injectors", inject: inject.KB287032 + ", " + inject.SecondaryIPRouteLoss, want: nil},
		{name: "unknown injector", inject: "nosuch",
			want: []string{`-kb.inject / KBHARNESS_INJECT: unknown injector "nosuch" (known: ` + known + ")", "nothing was run"}},
		{name: "one unknown among known", inject: inject.KB287032 + ",nosuch", want: []string{`unknown injector "nosuch"`}},
		{name: "injector on an attached host", inject: inject.KB287032, target: "netns:lab1", want: []string{`with -kb.target / KBHARNESS_TARGET "netns:lab1": injectors run only in namespace labs`}},
		{name: "a password in the target", target: "ssh://root:hunter2@192.0.2.20", want: []string{"a password in the URL is refused"}},
		{name: "missing lab dir", dir: filepath.Join(t.TempDir(), "nosuch"), want: []string{"-kb.lab-dir / KBHARNESS_LAB_DIR: stat ", "no such file or directory"}},
		{name: "lab dir is a file", dir: file, want: []string{"not a directory"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if lab.LocalDialect == netcfg.DialectWindows && tc.inject != "" && tc.want == nil {
				t.Skip("injectors are refused on Windows")
			}
			Options.Inject, Options.Target, Options.LabDir = tc.inject, tc.target, tc.dir
			t.Cleanup(func() { Options.Inject, Options.Target, Options.LabDir = "", "", "" })
			err := CheckOptions()
			if tc.want == nil {
				if err != nil {
					t.Errorf("CheckOptions() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("CheckOptions() = nil, want an error containing %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("CheckOptions() = %v\nwant it to contain %q", err, w)
				}
			}
		})
	}
}
