package netwait

import (
	"context"
	"errors"
	"sync"
	"syscall"
)

// sysPoller is an epoll instance and a pipe that wakes it to stop.
type sysPoller struct {
	epfd         int
	wakeR, wakeW int
}

// wakeTicket marks the stop pipe's events; tickets of waits start at 1.
const wakeTicket Ticket = 0

// New returns a poller; Run must run for parked waits to end.
func New() (*Poller, error) {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	var pipe [2]int
	if err := syscall.Pipe2(pipe[:], syscall.O_CLOEXEC|syscall.O_NONBLOCK); err != nil {
		syscall.Close(epfd)
		return nil, err
	}
	p := &Poller{sys: sysPoller{epfd: epfd, wakeR: pipe[0], wakeW: pipe[1]}, parked: map[Ticket]func(Ticket){}}
	ev := event(wakeTicket, syscall.EPOLLIN)
	if err := syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, pipe[0], &ev); err != nil {
		p.sys.closeFDs()
		return nil, err
	}
	return p, nil
}

func (s *sysPoller) closeFDs() {
	syscall.Close(s.epfd)
	syscall.Close(s.wakeR)
	syscall.Close(s.wakeW)
}

// event is an epoll event carrying a ticket in its 64 bits of user data.
func event(t Ticket, events uint32) syscall.EpollEvent {
	return syscall.EpollEvent{Events: events, Fd: int32(uint32(t)), Pad: int32(uint32(t >> 32))}
}

func ticketOf(ev *syscall.EpollEvent) Ticket {
	return Ticket(uint32(ev.Fd)) | Ticket(uint32(ev.Pad))<<32
}

// Park calls ready once (with the wait's ticket), on the poller's goroutine, when the socket under
// raw is readable, at its end or failed (at once if it is already), unless
// the wait is unparked first. ready must not block: it starts the reader.
// The caller must not read the socket while the wait is parked. On error
// the wait is not parked and ready is never called.
func (p *Poller) Park(raw syscall.RawConn, ready func(Ticket)) (Ticket, error) {
	t, err := p.add(ready)
	if err != nil {
		return 0, err
	}
	var ctlErr error
	err = raw.Control(func(fd uintptr) {
		// One shot: after its event the socket is not watched until it is
		// parked again. Modify first: a socket parked before is still
		// registered (the kernel forgets it only when it is closed).
		ev := event(t, syscall.EPOLLIN|syscall.EPOLLRDHUP|syscall.EPOLLONESHOT)
		ctlErr = syscall.EpollCtl(p.sys.epfd, syscall.EPOLL_CTL_MOD, int(fd), &ev)
		if errors.Is(ctlErr, syscall.ENOENT) {
			ctlErr = syscall.EpollCtl(p.sys.epfd, syscall.EPOLL_CTL_ADD, int(fd), &ev)
		}
	})
	if err == nil {
		err = ctlErr
	}
	if err != nil && p.Unpark(t) {
		return 0, err
	}
	return t, nil // parked, or already called by close
}

// Run watches the parked sockets until ctx is done. When it returns, the
// functions of the waits still parked have been called and Park fails.
func (p *Poller) Run(ctx context.Context) error {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		select {
		case <-ctx.Done():
			_, _ = syscall.Write(p.sys.wakeW, []byte{1})
		case <-stop:
		}
	})
	defer func() {
		close(stop)
		wg.Wait()
		p.close()
		p.sys.closeFDs()
	}()
	events := make([]syscall.EpollEvent, 256)
	for {
		n, err := syscall.EpollWait(p.sys.epfd, events, -1)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			return err
		}
		for i := range events[:n] {
			t := ticketOf(&events[i])
			if t == wakeTicket {
				return nil
			}
			p.fire(t)
		}
	}
}
