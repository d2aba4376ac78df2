#!/usr/bin/env node
// ort_bench.js: the ONNX Runtime peer of the onnxkit bench harness (../main.go).
//
//   NODE_PATH=DIR/node_modules node ort_bench.js --model M.onnx --input X.f32 \
//       [--batches 1,64,1000] [--threads 2] [--min-time 2] [--shape 1,28,28]
//   NODE_PATH=DIR/node_modules node ort_bench.js --model M.onnx --feeds F.json ...
//
// X.f32 holds float32 samples [K, shape...], little-endian, back to back (the
// harness writes the first 1,000 MNIST test images / 255, or random images for
// the zoo). For each batch size B (at most K) the session runs on the first B
// samples (or, with --feeds, on the inputs F.json names for batch B: each
// input's name, dtype float32 or int64, shape and data file), untimed a few
// times, then repeatedly for at least --min-time seconds; each run is awaited
// before the next starts. Prints one JSON line:
//   {"ort": version, "threads": T, "results": [{"batch", "runs", "seconds", "median_ms"}]}
// The session uses intraOpNumThreads T, interOpNumThreads 1, sequential
// execution and all graph optimizations.
'use strict';

const fs = require('fs');

function parseArgs(argv) {
  const o = { model: null, input: null, feeds: null, batches: [1, 64, 1000], threads: 2, minTime: 2, shape: [1, 28, 28] };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i + 1];
    switch (argv[i]) {
      case '--model': o.model = v; i++; break;
      case '--input': o.input = v; i++; break;
      case '--feeds': o.feeds = v; i++; break;
      case '--batches': o.batches = v.split(',').map(Number); i++; break;
      case '--threads': o.threads = Number(v); i++; break;
      case '--min-time': o.minTime = Number(v); i++; break;
      case '--shape': o.shape = v.split(',').map(Number); i++; break;
      default:
        process.stderr.write(`ort_bench: unknown argument ${argv[i]}\n`);
        process.exit(2);
    }
  }
  if (!o.model || !o.input && !o.feeds) {
    process.stderr.write('usage: node ort_bench.js --model M.onnx (--input X.f32 | --feeds F.json) [--batches 1,64,1000] [--threads T] [--min-time S] [--shape D,D,D]\n');
    process.exit(2);
  }
  return o;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const ort = require('onnxruntime-node');
  let version = '';
  try { version = require('onnxruntime-node/package.json').version; } catch (e) { /* unknown */ }
  const session = await ort.InferenceSession.create(o.model, {
    intraOpNumThreads: o.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const feedsFor = o.feeds ? listedFeeds(ort, o.feeds) : imageFeeds(ort, o, session.inputNames[0]);
  const results = [];
  for (const b of o.batches) {
    const feeds = feedsFor(b);
    for (let i = 0; i < 3; i++) await session.run(feeds);
    const times = [];
    const start = process.hrtime.bigint();
    let elapsed = 0;
    while (elapsed < o.minTime || times.length < 5) {
      const t0 = process.hrtime.bigint();
      await session.run(feeds);
      const t1 = process.hrtime.bigint();
      times.push(Number(t1 - t0) / 1e6);
      elapsed = Number(t1 - start) / 1e9;
    }
    times.sort((p, q) => p - q);
    results.push({ batch: b, runs: times.length, seconds: elapsed, median_ms: times[times.length >> 1] });
  }
  process.stdout.write(JSON.stringify({ ort: version, threads: o.threads, results, vmhwm_kb: peakKB() }) + '\n');
}

// peakKB returns this process's peak resident memory in kilobytes (VmHWM),
// or 0 where /proc/self/status is not there.
function peakKB() {
  try {
    const m = /VmHWM:\s*(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch (e) {
    return 0;
  }
}

// imageFeeds returns the feeds of the first b float32 samples of --input.
function imageFeeds(ort, o, inName) {
  const buf = fs.readFileSync(o.input);
  const all = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  const per = o.shape.reduce((p, d) => p * d, 1);
  return (b) => {
    if (b * per > all.length) throw new Error(`batch ${b} needs more samples than ${o.input} holds`);
    return { [inName]: new ort.Tensor('float32', all.slice(0, b * per), [b, ...o.shape]) };
  };
}

// listedFeeds returns the feeds the --feeds file lists for batch b.
function listedFeeds(ort, file) {
  const spec = JSON.parse(fs.readFileSync(file, 'utf8'));
  return (b) => {
    const entry = spec.batches.find((e) => e.batch === b);
    if (!entry) throw new Error(`${file}: no inputs for batch ${b}`);
    const feeds = {};
    for (const inp of entry.inputs) {
      const raw = fs.readFileSync(inp.file);
      const bytes = raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength); // aligned copy
      let data;
      if (inp.dtype === 'float32') data = new Float32Array(bytes);
      else if (inp.dtype === 'int64') data = new BigInt64Array(bytes);
      else throw new Error(`${inp.file}: dtype ${inp.dtype}`);
      feeds[inp.name] = new ort.Tensor(inp.dtype, data, inp.shape);
    }
    return feeds;
  };
}

main().catch((e) => {
  process.stderr.write(`ort_bench: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});
