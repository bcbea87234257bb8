//go:build !linux

package netwait

import (
	"context"
	"errors"
	"syscall"
)

type sysPoller struct{}

// New fails: this platform parks no waits.
func New() (*Poller, error) { return nil, errors.ErrUnsupported }

// Park fails: see New.
func (p *Poller) Park(syscall.RawConn, func(Ticket)) (Ticket, error) { return 0, errors.ErrUnsupported }

// Run returns at once: see New.
func (p *Poller) Run(context.Context) error { return errors.ErrUnsupported }
