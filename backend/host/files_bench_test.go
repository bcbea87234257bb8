package host

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"lanchat/backend/protocol"
)

// procStat reads a process's CPU time (user + system) and peak RSS.
func procStat(b *testing.B, pid int) (cpu time.Duration, peakRSS int64) {
	b.Helper()
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		b.Fatal(err)
	}
	f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	cpu = time.Duration(ut+st) * time.Second / 100 // USER_HZ
	status, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			peakRSS = kb << 10
		}
	}
	return cpu, peakRSS
}

// BenchmarkFilesHandout: the teacher sends a 20 MB handout and 30 students
// download it at once from a host process on loopback. It reports the
// upload's MB/s, the downloads' aggregate MB/s, the host's CPU seconds for
// the downloads and its peak RSS.
func BenchmarkFilesHandout(b *testing.B) {
	const students, size = 30, 20 << 20
	b.ReportAllocs()
	for range b.N {
		b.StopTimer()
		addr := freeAddrs(b, 1)[0]
		box := &testBox{spec: boxSpec{Addr: addr, Data: filepath.Join(b.TempDir(), "host"), Name: "host"}}
		box.start(b)
		box.waitUp(b)
		teacher, _, err := dialBox(box.ws(), "Prof", "", nil)
		if err != nil {
			b.Fatal(err)
		}
		joinRoom(b, teacher, "general")
		var class []*wsClient
		for i := range students {
			c, _, err := dialBox(box.ws(), "Aluno "+strconv.Itoa(i+1), "", nil)
			if err != nil {
				b.Fatal(err)
			}
			joinRoom(b, c, "general")
			class = append(class, c)
		}
		handout := randomBytes(size)
		ft := filesOf(b, box.url(), teacher)
		b.StartTimer()

		start := time.Now()
		id := ft.upload("apostila.pdf", handout)
		upload := time.Since(start)
		if err := teacher.send(map[string]any{"type": "send", "room": "general", "client_id": "t1", "text": "", "attachments": []string{id}}); err != nil {
			b.Fatal(err)
		}
		cpu0, _ := procStat(b, box.cmd.Process.Pid)
		start = time.Now()
		var wg sync.WaitGroup
		errs := make(chan error, students)
		for _, c := range class {
			msg, ok := c.waitFor(10*time.Second, func(f frame) bool { return f.Type == "message" && f.ClientID == "t1" })
			if !ok {
				b.Fatal("the handout did not arrive")
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				q := url.Values{"key": {c.filesKey}, "room": {"general"}, "seq": {strconv.FormatUint(msg.Seq, 10)}}
				res, err := http.Get(box.url() + protocol.FilePath + msg.Attachments[0].ID + "?" + q.Encode())
				if err != nil {
					errs <- err
					return
				}
				defer res.Body.Close()
				n, err := io.Copy(io.Discard, res.Body)
				if err == nil && n != size {
					err = io.ErrUnexpectedEOF
				}
				if err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		download := time.Since(start)
		b.StopTimer()
		close(errs)
		for err := range errs {
			b.Fatal(err)
		}
		cpu1, rss := procStat(b, box.cmd.Process.Pid)
		b.ReportMetric(float64(size)/(1<<20)/upload.Seconds(), "upload-MB/s")
		b.ReportMetric(float64(size*students)/(1<<20)/download.Seconds(), "download-MB/s")
		b.ReportMetric((cpu1 - cpu0).Seconds(), "host-cpu-s")
		b.ReportMetric(float64(rss)/(1<<20), "host-peak-RSS-MiB")
		for _, c := range class {
			c.close()
		}
		teacher.close()
		box.stop()
	}
}
