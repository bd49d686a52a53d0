package watchdog

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// TCPEcho returns a probe that sends a fresh 8-byte nonce over a TCP
// connection from dial and waits for the same bytes back, until ctx's
// deadline or cancellation. The connection is kept between checks and
// redialled after any error, so a late answer never passes for a fresh one.
func TCPEcho(name string, dial func(ctx context.Context) (net.Conn, error)) Probe {
	return &tcpEcho{name: name, dial: dial}
}

type tcpEcho struct {
	name string
	dial func(ctx context.Context) (net.Conn, error)
	mu   sync.Mutex
	conn net.Conn
}

func (p *tcpEcho) Name() string { return p.name }

func (p *tcpEcho) Check(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	err := p.roundTrip(ctx)
	if err != nil && p.conn != nil {
		p.conn.Close()
		p.conn = nil
	}
	return err
}

func (p *tcpEcho) roundTrip(ctx context.Context) error {
	if p.conn == nil {
		c, err := p.dial(ctx)
		if err != nil {
			return fmt.Errorf("dialling echo responder: %w", err)
		}
		p.conn = c
	}
	if d, ok := ctx.Deadline(); ok {
		p.conn.SetDeadline(d)
	}
	// Cancelling ctx (the watchdog stopping) cuts a blocked read short.
	conn := p.conn
	defer context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })()
	var nonce [8]byte
	rand.Read(nonce[:])
	if _, err := p.conn.Write(nonce[:]); err != nil {
		return fmt.Errorf("writing to echo responder %s: %w", p.conn.RemoteAddr(), err)
	}
	var back [8]byte
	if _, err := io.ReadFull(p.conn, back[:]); err != nil {
		return fmt.Errorf("reading from echo responder %s: %w", p.conn.RemoteAddr(), err)
	}
	if !bytes.Equal(nonce[:], back[:]) {
		return fmt.Errorf("echo responder %s answered %x to %x", p.conn.RemoteAddr(), back, nonce)
	}
	return nil
}

// Close closes the probe's connection.
func (p *tcpEcho) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conn == nil {
		return nil
	}
	err := p.conn.Close()
	p.conn = nil
	return err
}

// ServeEcho accepts connections on l and echoes every byte back, until l is
// closed.
func ServeEcho(l net.Listener) error {
	for {
		c, err := l.Accept()
		if err != nil {
			return err
		}
		go func() {
			defer c.Close()
			io.Copy(c, c)
		}()
	}
}
