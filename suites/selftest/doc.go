// Package selftest proves, outside the user's main job, that kbharness
// itself behaves: each suite turns red when a defect injector emulates its
// bug (inject_test.go), and a run killed with SIGKILL at random moments
// leaves nothing behind once `kbharness cleanup` ran (kill_test.go). Its
// tests build the suite binary and the kbharness command and run them as
// child processes; they run under `go test ./...` (and so in CI) as root.
package selftest
