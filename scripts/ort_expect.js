#!/usr/bin/env node
// ort_expect.js writes onnxruntime's outputs for the folders that
// scripts/make_upsample_ort_cases.py made: it runs model.onnx on the inputs
// listed in inputs.json and writes test_data_set_0/output_<i>.pb (ONNX
// TensorProto with raw_data), then deletes inputs.json.
//
//   NODE_PATH=.tools/node_modules node scripts/ort_expect.js DIR...
'use strict';

const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

// ONNX data_type and TypedArray by ORT type name.
const TYPES = {
  float32: [1, Float32Array], uint8: [2, Uint8Array], int8: [3, Int8Array],
  int32: [6, Int32Array], int64: [7, BigInt64Array], float64: [11, Float64Array],
};

function varint(n) {
  const out = [];
  let v = BigInt(n);
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  return Buffer.from(out);
}

function field(num, wire, payload) {
  const key = varint((num << 3) | wire);
  if (wire === 0) return Buffer.concat([key, payload]);
  return Buffer.concat([key, varint(payload.length), payload]);
}

// encodeTensor returns the TensorProto bytes of an ORT tensor.
function encodeTensor(name, t) {
  const [dataType] = TYPES[t.type];
  const parts = [];
  if (t.dims.length > 0) parts.push(field(1, 2, Buffer.concat(t.dims.map(varint))));
  parts.push(field(2, 0, varint(dataType)));
  parts.push(field(8, 2, Buffer.from(name, 'utf8')));
  const d = t.data;
  parts.push(field(9, 2, Buffer.from(d.buffer, d.byteOffset, d.byteLength)));
  return Buffer.concat(parts);
}

async function main() {
  const dirs = process.argv.slice(2);
  if (dirs.length === 0) {
    process.stderr.write('usage: node scripts/ort_expect.js DIR...\n');
    process.exit(2);
  }
  let failed = 0;
  for (const dir of dirs) {
    try {
      const s = await ort.InferenceSession.create(path.join(dir, 'model.onnx'), { intraOpNumThreads: 1 });
      const inputs = JSON.parse(fs.readFileSync(path.join(dir, 'inputs.json'), 'utf8'));
      const feeds = {};
      for (const x of inputs) {
        const [, Arr] = TYPES[x.type];
        feeds[x.name] = new ort.Tensor(x.type, Arr.from(x.data), x.dims);
      }
      const outs = await s.run(feeds);
      s.outputNames.forEach((name, i) => {
        fs.writeFileSync(path.join(dir, 'test_data_set_0', `output_${i}.pb`), encodeTensor(name, outs[name]));
      });
      fs.unlinkSync(path.join(dir, 'inputs.json'));
      console.log(`wrote ${dir}: [${outs[s.outputNames[0]].dims}]`);
    } catch (e) {
      console.log(`FAIL ${dir}: ${e.message.split('\n')[0]}`);
      failed++;
    }
  }
  process.exit(failed > 0 ? 1 : 0);
}

main();
