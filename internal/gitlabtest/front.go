package gitlabtest

import (
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
)

// Outage is the state of a double's outage switch.
type Outage int

// The outage modes.
const (
	// Up: normal service.
	Up Outage = iota
	// Down503: every request gets 503 Service Unavailable (an HTML page, as
	// from a proxy in front of a GitLab that is down).
	Down503
	// DownRefuse: the port is closed and open connections are cut: new
	// connections are refused.
	DownRefuse
	// DownDrop: connections are accepted and closed without a reply, as
	// when the server crashes mid-request.
	DownDrop
	// DownHang: every request hangs until the client gives up (or the
	// switch is set back to Up).
	DownHang
)

// String names the mode.
func (o Outage) String() string {
	switch o {
	case Up:
		return "up"
	case Down503:
		return "down-503"
	case DownRefuse:
		return "down-refuse"
	case DownDrop:
		return "down-drop"
	case DownHang:
		return "down-hang"
	}
	return "Outage(?)"
}

// front is the HTTP side both doubles share: the httptest server and its
// outage switch.
type front struct {
	ts *httptest.Server

	mu        sync.Mutex
	outage    Outage
	release   chan struct{} // closed to release DownHang requests
	listeners []net.Listener
}

func newFront(h http.Handler) *front {
	f := &front{release: make(chan struct{})}
	f.ts = httptest.NewServer(h)
	return f
}

// state returns the outage mode and the channel that releases hung requests.
func (f *front) state() (Outage, <-chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.outage, f.release
}

// set flips the switch.
func (f *front) set(o Outage) {
	f.mu.Lock()
	defer f.mu.Unlock()
	old := f.outage
	if old == o {
		return
	}
	f.outage = o
	if old == DownHang {
		close(f.release)
		f.release = make(chan struct{})
	}
	switch {
	case o == DownRefuse:
		f.closeListeners()
		f.ts.CloseClientConnections()
	case old == DownRefuse:
		// Listen again on the same port.
		l, err := net.Listen("tcp", f.ts.Listener.Addr().String())
		if err != nil {
			panic("gitlabtest: cannot listen again after DownRefuse: " + err.Error())
		}
		f.listeners = append(f.listeners, l)
		go f.ts.Config.Serve(l)
	}
}

// closeListeners closes every listener; f.mu held.
func (f *front) closeListeners() {
	f.ts.Listener.Close()
	for _, l := range f.listeners {
		l.Close()
	}
	f.listeners = nil
}

// close releases hung requests and shuts the server down.
func (f *front) close() {
	f.set(Up)
	f.mu.Lock()
	for _, l := range f.listeners {
		l.Close()
	}
	f.mu.Unlock()
	f.ts.Close()
}

// serveOutage answers as the outage mode says; false when the request is
// to be served normally.
func serveOutage(w http.ResponseWriter, r *http.Request, o Outage, release <-chan struct{}) bool {
	switch o {
	case Down503:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>\n"))
		return true
	case DownDrop, DownRefuse: // DownRefuse: a request that raced the switch
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return true
			}
		}
		panic(http.ErrAbortHandler)
	case DownHang:
		select {
		case <-r.Context().Done():
		case <-release:
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		return true
	}
	return false
}
