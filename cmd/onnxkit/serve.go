package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/serve"
)

var serveCmd = &command{
	name:  "serve",
	args:  "-model NAME=FILE.onnx...",
	short: "serve models over HTTP in the Open Inference Protocol (KServe v2), with a page to draw a digit",
	setup: func(fs *flag.FlagSet) func([]string) error {
		addr := fs.String("addr", "127.0.0.1:8080", "listen on this `address` (host:port; port 0 picks a free one)")
		var specs []string
		fs.Func("model", "serve the model in `NAME=FILE.onnx` as NAME (repeat for more models)", func(s string) error {
			specs = append(specs, s)
			return nil
		})
		maxBatch := fs.Int("max-batch", 16, "dynamic batching: run up to `N` concurrent requests for a model as one batch (1 turns batching off)")
		maxDelay := fs.Duration("max-delay", 2*time.Millisecond, "dynamic batching: wait at most this `long` for a batch to fill")
		maxBody := fs.Int64("max-body", 16<<20, "refuse request bodies over this many `bytes` (413)")
		maxElems := fs.Int("max-elements", 4<<20, "refuse request tensors over this many `elements` (413)")
		maxInFlight := fs.Int("max-in-flight", 256, "refuse inference requests (503) while this `many` are computing (read and decoded, waiting for or in a run)")
		maxMemory := byteSize(serve.DefaultMaxMemory())
		fs.Var(&maxMemory, "max-memory", "memory `budget` in bytes, or with a suffix k, M, G, Ki, Mi, Gi: the Go runtime's memory limit; requests (bodies, tensors, runs, responses) share half of what the models leave, and one past it waits 1s, then gets 503 (413 if it can never fit). Default: half the RAM or cgroup limit, at most 2Gi")
		readTimeout := fs.Duration("read-timeout", 30*time.Second, "time `limit` for reading a request, body included")
		writeTimeout := fs.Duration("write-timeout", 60*time.Second, "time `limit` from the end of a request's headers to the end of its response")
		shutdownTimeout := fs.Duration("shutdown-timeout", 30*time.Second, "on SIGINT or SIGTERM, wait this `long` for requests in flight to finish")
		return func(args []string) error {
			if len(args) > 0 {
				return usagef("unexpected argument %q (models are given with -model NAME=FILE.onnx)", args[0])
			}
			if len(specs) == 0 {
				return usagef("no model: give -model NAME=FILE.onnx")
			}
			switch {
			case *maxBatch < 1:
				return usagef("-max-batch %d: want at least 1", *maxBatch)
			case *maxDelay < 0, *maxBody < 1, *maxElems < 1, *maxInFlight < 1, maxMemory < 1, *readTimeout < 0, *writeTimeout < 0, *shutdownTimeout < 0:
				return usagef("limits and timeouts must be positive")
			}
			var models []serve.Model
			for _, spec := range specs {
				name, file, ok := strings.Cut(spec, "=")
				if !ok || name == "" || file == "" {
					return usagef("-model %q: want NAME=FILE.onnx", spec)
				}
				m, err := loadServed(name, file)
				if err != nil {
					return err
				}
				models = append(models, m)
			}
			logger := slog.New(slog.NewJSONHandler(stderr, nil))
			srv, err := serve.New(models, serve.Options{
				MaxBatch:    *maxBatch,
				MaxDelay:    *maxDelay,
				MaxBody:     *maxBody,
				MaxElements: *maxElems,
				MaxInFlight: *maxInFlight,
				MaxMemory:   int64(maxMemory),
				Logger:      logger,
			})
			if err != nil {
				return err
			}
			defer srv.Close()
			for _, m := range models {
				if on, why := srv.Batching(m.Name); on {
					logger.Info("model", "name", m.Name, "batching", true)
				} else {
					logger.Info("model", "name", m.Name, "batching", false, "why", why)
				}
			}
			ln, err := net.Listen("tcp", *addr)
			if err != nil {
				return err
			}
			hs := &http.Server{
				Handler:           srv,
				ReadHeaderTimeout: min(10*time.Second, *readTimeout),
				ReadTimeout:       *readTimeout,
				WriteTimeout:      *writeTimeout,
				IdleTimeout:       2 * time.Minute,
				MaxHeaderBytes:    64 << 10,
				ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			served := make(chan error, 1)
			go func() { served <- hs.Serve(ln) }()
			logger.Info("listening", "url", "http://"+ln.Addr().String()+"/")
			select {
			case err := <-served:
				return err
			case <-ctx.Done():
			}
			stop() // a second signal kills at once
			logger.Info("shutting down", "timeout", shutdownTimeout.String())
			srv.Drain()
			sctx, cancel := context.WithTimeout(context.Background(), *shutdownTimeout)
			defer cancel()
			if err := hs.Shutdown(sctx); err != nil {
				hs.Close()
				return fmt.Errorf("shutdown: requests still in flight after %v: %w", *shutdownTimeout, err)
			}
			if err := <-served; !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			logger.Info("stopped")
			return nil
		}
	},
}

// loadServed loads a model to serve, with the drawing page's preprocessing
// from the metadata onnxkit train records (pixels in [0, 1] without it).
func loadServed(name, path string) (serve.Model, error) {
	m, err := onnx.ReadFile(path)
	if err != nil {
		return serve.Model{}, err
	}
	s, err := sessionOptions().NewSession(m)
	if err != nil {
		return serve.Model{}, fmt.Errorf("%s: %w", path, err)
	}
	p, err := m.Preprocess()
	if err != nil {
		return serve.Model{}, fmt.Errorf("%s: %w", path, err)
	}
	return serve.Model{Name: name, Session: s, Mean: p.Mean, Std: p.Std, Classes: p.Classes}, nil
}

// byteSize is a flag value in bytes, with an optional decimal (k, M, G) or
// binary (Ki, Mi, Gi) suffix as in Kubernetes quantities.
type byteSize int64

var sizeSuffixes = []struct {
	s string
	n int64
}{{"Ki", 1 << 10}, {"Mi", 1 << 20}, {"Gi", 1 << 30}, {"k", 1e3}, {"M", 1e6}, {"G", 1e9}}

func (b *byteSize) Set(s string) error {
	unit := int64(1)
	for _, x := range sizeSuffixes {
		if num, ok := strings.CutSuffix(s, x.s); ok {
			s, unit = num, x.n
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > math.MaxInt64/unit {
		return errors.New("want a number of bytes, optionally with a suffix k, M, G, Ki, Mi or Gi")
	}
	*b = byteSize(n * unit)
	return nil
}

func (b *byteSize) String() string {
	for i := 2; i >= 0; i-- {
		if x := sizeSuffixes[i]; *b > 0 && int64(*b)%x.n == 0 {
			return strconv.FormatInt(int64(*b)/x.n, 10) + x.s
		}
	}
	return strconv.FormatInt(int64(*b), 10)
}
