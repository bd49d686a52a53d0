package wire

import (
	"net"
	"slices"
	"strconv"
	"sync"
	"testing"
)

func TestCallServeRoundTrip(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var (
		mu    sync.Mutex
		local []string
	)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			local = append(local, c.RemoteAddr().String())
			mu.Unlock()
			go Serve(c, func(r Request) Response {
				return Response{Stdout: r.Command + " " + r.Args[0], Exit: 3, Registry: []RegOp{{Op: OpSet, Name: r.Registry[0]}}}
			})
		}
	}()
	t.Setenv(ClientPortsEnv, "20000-20099")
	for i := range 5 {
		resp, err := Call(l.Addr().String(), Request{Command: Route, Args: []string{strconv.Itoa(i)}, Registry: []string{"a"}})
		if err != nil {
			t.Fatal(err)
		}
		if resp.Stdout != "route "+strconv.Itoa(i) || resp.Exit != 3 || !slices.Equal(resp.Registry, []RegOp{{OpSet, "a"}}) {
			t.Errorf("call %d: %+v", i, resp)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for _, a := range local {
		_, p, _ := net.SplitHostPort(a)
		if n, _ := strconv.Atoi(p); n < 20000 || n > 20099 {
			t.Errorf("the client connected from %s, outside %s", a, "20000-20099")
		}
	}
	t.Setenv(ClientPortsEnv, "9-1")
	if _, err := Call(l.Addr().String(), Request{Command: Route}); err == nil {
		t.Errorf("a bad %s was accepted", ClientPortsEnv)
	}
}
