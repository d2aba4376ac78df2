// Package serve serves ONNX models over HTTP in the Open Inference Protocol
// (the KServe v2 REST API), with dynamic batching, limits, access logs,
// Prometheus metrics and a page to draw a digit for an MNIST classifier.
//
// Endpoints:
//
//	GET  /v2/health/live                  200 while the server runs (empty body)
//	GET  /v2/health/ready                 200 until shutdown begins, then 503
//	GET  /v2                              server metadata: name, version, extensions
//	GET  /v2/models/NAME[/versions/1]     model metadata: inputs, outputs, datatypes, shapes
//	GET  /v2/models/NAME[/versions/1]/ready  200 for a loaded model
//	POST /v2/models/NAME[/versions/1]/infer  inference
//	GET  /metrics                         Prometheus text exposition format
//	GET  /                                the drawing page
//
// Each model has the one version "1". Datatypes are the protocol's names
// (FP32, FP64, INT64, INT32, INT8, UINT8, BOOL); a symbolic or unknown
// dimension is -1 in metadata. Tensor data in a request is a row-major array,
// flat or nested; responses give it flat. Errors are {"error": "..."} with
// status 400 (malformed request, wrong input name, shape or datatype), 404
// (unknown model or path), 405 (wrong method, with an Allow header), 413
// (body over Options.MaxBody, a tensor over Options.MaxElements, or a
// request that can never fit the memory budget), 503 with Retry-After
// (Options.MaxInFlight inference requests already computing, no memory
// for the request within Options.MemoryWait, or shutting down) and 500 (the
// model failed). A request whose client has gone is logged and counted
// with status 499.
//
// Floating-point values that JSON cannot hold are written as the strings
// "NaN", "Infinity" and "-Infinity", and read back from them.
//
// # Dynamic batching
//
// Concurrent inference requests for one model are gathered into a batch of
// up to Options.MaxBatch requests, concatenated along the first dimension,
// run once and split back. A batch closes when it is full, when
// Options.MaxDelay has passed since its first request, or as soon as no
// other request for the model is being read; while every runner is busy it
// keeps taking requests. Requests are batched together only when their
// tensors agree in every dimension but the first.
//
// Batching must not change answers, so a model is batched only when
//
//   - the first dimension of every input and output is symbolic and every
//     other dimension of the inputs is fixed, and
//   - a probe at startup finds its answers batch-invariant: random rows run
//     in batches of every size from 2 to MaxBatch give, bit for bit, the
//     outputs of each row run alone.
//
// The matrix kernels sum each element in the same order whatever the
// batch size, so the tutorial's models and PyTorch's exports pass; a model
// whose ops do not (a product with a transposed B that is not a constant,
// say) fails the probe, is served one request per run, and
// Server.Batching reports why.
//
// # Safety
//
// Request bodies are untrusted: sizes are checked before allocating, and
// every tensor is checked against the model's declared inputs before it
// reaches the session.
//
// # Memory
//
// A request reads its body before it takes an in-flight slot, so that slow
// uploads hold no slot; until its first 32 KiB have arrived it holds no
// more memory than that. The server's budget (Options.MaxMemory) covers
// what requests hold: bodies, decoded tensors, runs and encoded responses.
// A run's memory is estimated per input element from runs measured at
// start-up. The request context goes through the batcher to the session:
// a job whose client has gone is dropped before its run, and a run stops
// between nodes once every client of its batch has gone. After
// Options.IdleRelease without requests the server returns free memory to
// the system.
package serve
