package host

import (
	"context"
	"net/http"
	"sync"

	"lanchat/backend/socketio"
)

// mountSocketIO adds the Socket.IO-compatible endpoint (/socket.io/) and the
// course chat's page (/course/) to the host's server, under the server's
// origin policy. The returned function runs the endpoint until ctx ends
// and returns a wait for its goroutines.
func (h *Host) mountSocketIO() func(ctx context.Context) (wait func()) {
	sio := socketio.New(socketio.Config{
		Hub:           h.Hub,
		OriginAllowed: h.Server.OriginAllowed,
		Logger:        h.log,
	})
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodOptions} {
		h.Server.Handle(m+" "+socketio.Path, sio)
	}
	h.Server.Handle("GET "+socketio.CoursePath, socketio.CourseHandler())
	return func(ctx context.Context) func() {
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = sio.Run(ctx)
		}()
		return wg.Wait
	}
}
