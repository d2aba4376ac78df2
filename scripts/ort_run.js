#!/usr/bin/env node
// ort_run.js runs ONNX models in the ONNX test layout through ONNX Runtime
// (onnxruntime-node) and compares its outputs with the stored ones.
//
//   NODE_PATH=/tmp/ort/node_modules node scripts/ort_run.js [flags] DIR...
//
// Each DIR holds model.onnx and test_data_set_*/{input_*,output_*}.pb
// (ONNX TensorProto files). input_<i>.pb feeds the graph input with the
// tensor's name, or the i-th graph input when the name does not match one;
// outputs are matched the same way. One line is printed per test case; the
// exit status is 1 when any output differs by more than atol + rtol*|want|,
// 2 for usage errors.
//
// With --write it compares nothing: it writes ONNX Runtime's outputs into each
// test_data_set_N as output_<i>.pb (graph output order), making reference
// outputs for models built around its inputs.
//
// Flags:
//   --rtol R     relative tolerance (default 1e-4)
//   --atol A     absolute tolerance (default 1e-5)
//   --threads T  intra-op threads (default 2)
//   --ort PATH   a node_modules folder holding onnxruntime-node, or the
//                package folder itself (default: require through NODE_PATH)
//   --write      write ONNX Runtime's outputs instead of comparing
//
// onnxruntime-node has no TensorProto reader, so this file has a minimal
// protobuf decoder for the fields the test data uses: dims (1), data_type (2),
// float_data (4), int32_data (5), int64_data (7), name (8), raw_data (9),
// double_data (10). raw_data is read as little-endian, as the ONNX spec says.
'use strict';

const fs = require('fs');
const path = require('path');

function usage(msg) {
  if (msg) process.stderr.write(`ort_run: ${msg}\n`);
  process.stderr.write('usage: node scripts/ort_run.js [--rtol R] [--atol A] [--threads T] [--ort PATH] [--write] DIR...\n');
  process.exit(2);
}

function parseArgs(argv) {
  const o = { rtol: 1e-4, atol: 1e-5, threads: 2, ort: null, write: false, dirs: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) usage(`flag ${a} needs a value`);
      return argv[++i];
    };
    const num = () => {
      const v = Number(val());
      if (!Number.isFinite(v) || v < 0) usage(`flag ${a}: bad number`);
      return v;
    };
    if (a === '--rtol') o.rtol = num();
    else if (a === '--atol') o.atol = num();
    else if (a === '--threads') o.threads = num();
    else if (a === '--ort') o.ort = val();
    else if (a === '--write') o.write = true;
    else if (a === '-h' || a === '--help') usage();
    else if (a.startsWith('-')) usage(`unknown flag ${a}`);
    else o.dirs.push(a);
  }
  if (o.dirs.length === 0) usage('no model folder given');
  return o;
}

function loadOrt(p) {
  if (!p) return require('onnxruntime-node');
  const abs = path.resolve(p);
  const pkg = path.join(abs, 'onnxruntime-node');
  return require(fs.existsSync(path.join(pkg, 'package.json')) ? pkg : abs);
}

// ---- minimal protobuf reader for onnx.TensorProto ----

class Reader {
  constructor(buf) { this.buf = buf; this.pos = 0; }
  eof() { return this.pos >= this.buf.length; }
  varint() { // returns BigInt (unsigned 64-bit)
    let v = 0n, shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.buf.length) throw new Error('truncated varint');
      const b = this.buf[this.pos++];
      v |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return BigInt.asUintN(64, v);
      shift += 7n;
    }
    throw new Error('varint longer than 10 bytes');
  }
  bytes(n) {
    if (n < 0 || this.pos + n > this.buf.length) throw new Error('truncated field');
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
  lenDelim() { return this.bytes(Number(this.varint())); }
  skip(wire) {
    switch (wire) {
      case 0: this.varint(); break;
      case 1: this.bytes(8); break;
      case 2: this.lenDelim(); break;
      case 5: this.bytes(4); break;
      default: throw new Error(`unsupported wire type ${wire}`);
    }
  }
}

function copyBytes(b) { // an aligned copy, so typed arrays can view it
  const out = new Uint8Array(b.length);
  out.set(b);
  return out.buffer;
}

// readRepeated appends the values of a repeated scalar field, packed (wire 2)
// or not, using read(reader) for one element.
function readRepeated(r, wire, scalarWire, read, out) {
  if (wire === 2) {
    const sub = new Reader(r.lenDelim());
    while (!sub.eof()) out.push(read(sub));
  } else if (wire === scalarWire) {
    out.push(read(r));
  } else {
    throw new Error(`bad wire type ${wire} for a repeated field`);
  }
}

const f32 = (r) => new DataView(copyBytes(r.bytes(4))).getFloat32(0, true);
const f64 = (r) => new DataView(copyBytes(r.bytes(8))).getFloat64(0, true);
const i64 = (r) => BigInt.asIntN(64, r.varint());
const i32 = (r) => Number(BigInt.asIntN(32, r.varint()));

// ONNX data_type -> [ort type, TypedArray, element size]
const TYPES = {
  1: ['float32', Float32Array, 4],
  2: ['uint8', Uint8Array, 1],
  3: ['int8', Int8Array, 1],
  6: ['int32', Int32Array, 4],
  7: ['int64', BigInt64Array, 8],
  9: ['bool', Uint8Array, 1],
  11: ['float64', Float64Array, 8],
};

function parseTensor(buf) {
  const r = new Reader(buf);
  const t = { dims: [], dataType: 0, name: '', raw: null, floats: [], ints32: [], ints64: [], doubles: [] };
  while (!r.eof()) {
    const key = Number(r.varint());
    const field = key >>> 3, wire = key & 7;
    switch (field) {
      case 1: readRepeated(r, wire, 0, i64, t.dims); break;
      case 2: t.dataType = Number(r.varint()); break;
      case 4: readRepeated(r, wire, 5, f32, t.floats); break;
      case 5: readRepeated(r, wire, 0, i32, t.ints32); break;
      case 7: readRepeated(r, wire, 0, i64, t.ints64); break;
      case 8: t.name = Buffer.from(r.lenDelim()).toString('utf8'); break;
      case 9: t.raw = r.lenDelim(); break;
      case 10: readRepeated(r, wire, 1, f64, t.doubles); break;
      default: r.skip(wire);
    }
  }
  const ty = TYPES[t.dataType];
  if (!ty) throw new Error(`tensor "${t.name}": unsupported data_type ${t.dataType}`);
  const [ortType, Arr, size] = ty;
  let n = 1;
  for (const d of t.dims) {
    if (d < 0n) throw new Error(`tensor "${t.name}": negative dim ${d}`);
    n *= Number(d);
  }
  if (!Number.isSafeInteger(n)) throw new Error(`tensor "${t.name}": too many elements`);
  let data;
  if (t.raw !== null) {
    if (t.raw.length !== n * size) {
      throw new Error(`tensor "${t.name}": raw_data has ${t.raw.length} bytes, want ${n * size}`);
    }
    data = new Arr(copyBytes(t.raw));
  } else {
    const src = { 1: t.floats, 2: t.ints32, 3: t.ints32, 6: t.ints32, 7: t.ints64, 9: t.ints32, 11: t.doubles }[t.dataType];
    if (src.length !== n) throw new Error(`tensor "${t.name}": ${src.length} values, want ${n}`);
    data = Arr.from(src);
  }
  return { name: t.name, ortType, data, dims: t.dims.map(Number) };
}

// ---- minimal protobuf writer for onnx.TensorProto ----

function varintBytes(v) { // v: a non-negative Number or BigInt
  const out = [];
  let x = BigInt(v);
  do {
    let b = Number(x & 0x7fn);
    x >>= 7n;
    if (x > 0n) b |= 0x80;
    out.push(b);
  } while (x > 0n);
  return out;
}

// encodeTensor writes dims (1), data_type (2), name (8) and raw_data (9).
function encodeTensor(name, t) {
  const dataType = Number(Object.keys(TYPES).find((k) => TYPES[k][0] === t.type));
  if (!dataType) throw new Error(`output "${name}": unsupported type ${t.type}`);
  const parts = [];
  for (const d of t.dims) parts.push(Buffer.from([0x08, ...varintBytes(d)]));
  parts.push(Buffer.from([0x10, ...varintBytes(dataType)]));
  const nameBytes = Buffer.from(name, 'utf8');
  parts.push(Buffer.from([0x42, ...varintBytes(nameBytes.length)]), nameBytes);
  const raw = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  parts.push(Buffer.from([0x4a, ...varintBytes(raw.length)]), raw);
  return Buffer.concat(parts);
}

// ---- the runner ----

function listPb(dir, prefix) {
  return fs.readdirSync(dir)
    .map((f) => ({ f, m: new RegExp(`^${prefix}_(\\d+)\\.pb$`).exec(f) }))
    .filter((x) => x.m)
    .sort((a, b) => Number(a.m[1]) - Number(b.m[1]))
    .map((x) => ({ index: Number(x.m[1]), file: path.join(dir, x.f) }));
}

function graphName(t, index, names, what) {
  if (names.includes(t.name)) return t.name;
  if (index < names.length) return names[index];
  throw new Error(`${what}_${index}.pb ("${t.name}"): the model has only ${names.length} ${what}s`);
}

// compare returns {ok, maxAbs, maxRel, bad} for got vs want.
function compare(got, want, rtol, atol) {
  const res = { ok: true, maxAbs: 0, maxRel: 0, bad: -1 };
  if (got.length !== want.length) return { ...res, ok: false };
  for (let i = 0; i < want.length; i++) {
    const g = Number(got[i]), w = Number(want[i]);
    if (Number.isNaN(g) && Number.isNaN(w)) continue;
    const d = Math.abs(g - w);
    if (!(d <= atol + rtol * Math.abs(w))) {
      if (res.ok) res.bad = i;
      res.ok = false;
    }
    if (!(d <= res.maxAbs)) res.maxAbs = d; // NaN propagates
    if (w !== 0) res.maxRel = Math.max(res.maxRel, d / Math.abs(w));
  }
  return res;
}

async function runDir(ort, dir, o) {
  const modelPath = path.join(dir, 'model.onnx');
  const session = await ort.InferenceSession.create(modelPath, {
    intraOpNumThreads: o.threads, interOpNumThreads: 1, executionProviders: ['cpu'],
  });
  const cases = fs.readdirSync(dir).filter((f) => /^test_data_set_\d+$/.test(f))
    .sort((a, b) => Number(a.split('_').pop()) - Number(b.split('_').pop()));
  if (cases.length === 0) throw new Error(`${dir}: no test_data_set_* folders`);
  let failed = 0;
  for (const c of cases) {
    const cdir = path.join(dir, c);
    const feeds = {};
    for (const { index, file } of listPb(cdir, 'input')) {
      const t = parseTensor(fs.readFileSync(file));
      feeds[graphName(t, index, session.inputNames, 'input')] = new ort.Tensor(t.ortType, t.data, t.dims);
    }
    const t0 = process.hrtime.bigint();
    const outs = await session.run(feeds);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (o.write) {
      session.outputNames.forEach((name, i) => {
        fs.writeFileSync(path.join(cdir, `output_${i}.pb`), encodeTensor(name, outs[name]));
        console.log(`wrote ${path.join(cdir, `output_${i}.pb`)} ${name} [${outs[name].dims}]`);
      });
      continue;
    }
    for (const { index, file } of listPb(cdir, 'output')) {
      const want = parseTensor(fs.readFileSync(file));
      const name = graphName(want, index, session.outputNames, 'output');
      const got = outs[name];
      const label = `${path.join(dir, c)} ${name}`;
      const sameShape = got.dims.length === want.dims.length && got.dims.every((d, i) => d === want.dims[i]);
      if (!sameShape) {
        console.log(`FAIL ${label}: shape [${got.dims}], want [${want.dims}]`);
        failed++;
        continue;
      }
      const r = compare(got.data, want.data, o.rtol, o.atol);
      const stats = `[${want.dims}] max_abs ${r.maxAbs.toExponential(2)} max_rel ${r.maxRel.toExponential(2)} (${ms.toFixed(1)} ms)`;
      if (r.ok) {
        console.log(`ok   ${label} ${stats}`);
      } else {
        failed++;
        const where = r.bad >= 0 ? `; first at [${r.bad}]: got ${got.data[r.bad]}, want ${want.data[r.bad]}` : '';
        console.log(`FAIL ${label} ${stats}${where}`);
      }
    }
  }
  return failed;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  let ort;
  try {
    ort = loadOrt(o.ort);
  } catch (e) {
    process.stderr.write(`ort_run: cannot load onnxruntime-node (set NODE_PATH or --ort): ${e.message.split('\n')[0]}\n`);
    process.exit(1);
  }
  let failed = 0;
  for (const dir of o.dirs) {
    try {
      failed += await runDir(ort, dir, o);
    } catch (e) {
      console.log(`FAIL ${dir}: ${e.message}`);
      failed++;
    }
  }
  if (failed > 0) {
    process.stderr.write(`ort_run: ${failed} failure(s)\n`);
    process.exit(1);
  }
}

main();
