package cluster

import (
	"testing"

	"go.uber.org/goleak"
)

// Every node a test starts is closed by its end, and Close leaves no
// goroutine of the server or the client behind.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
