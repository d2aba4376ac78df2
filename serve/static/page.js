// The drawing page: draw a digit on #pad, prepare it the way MNIST's digits
// were (see prepare), ask the server's Open Inference Protocol endpoint and
// show the most probable classes.
"use strict";

(function () {
  const app = document.getElementById("app");
  const models = JSON.parse(app.dataset.models || "[]");
  if (models.length === 0) return;

  const pad = document.getElementById("pad");
  const ctx = pad.getContext("2d", { willReadFrequently: true });
  const preview = document.getElementById("preview");
  const select = document.getElementById("model");
  const predictionEl = document.getElementById("prediction");
  const confidenceEl = document.getElementById("confidence");
  const topEl = document.getElementById("top");
  const statusEl = document.getElementById("status");

  const SIZE = 28, BOX = 20;
  let drawing = null; // the pointer drawing now, with its last point
  let seq = 0;        // numbers requests so that a late answer is dropped

  function clearPad() {
    ctx.fillStyle = "#000";
    ctx.fillRect(0, 0, pad.width, pad.height);
    preview.getContext("2d").clearRect(0, 0, SIZE, SIZE);
    predictionEl.textContent = "?";
    predictionEl.dataset.class = "";
    confidenceEl.textContent = "";
    topEl.replaceChildren();
    setStatus("idle", "Draw a digit.");
    seq++;
  }

  function setStatus(state, text) {
    statusEl.dataset.state = state;
    statusEl.textContent = text;
  }

  // Pointer position in canvas pixels.
  function point(e) {
    const r = pad.getBoundingClientRect();
    return [(e.clientX - r.left) * pad.width / r.width, (e.clientY - r.top) * pad.height / r.height];
  }

  function stroke(from, to) {
    ctx.strokeStyle = "#fff";
    ctx.fillStyle = "#fff";
    ctx.lineWidth = 18;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.beginPath();
    ctx.moveTo(from[0], from[1]);
    ctx.lineTo(to[0], to[1]);
    ctx.stroke();
  }

  pad.addEventListener("pointerdown", (e) => {
    if (e.button !== 0 && e.pointerType === "mouse") return;
    e.preventDefault();
    try {
      pad.setPointerCapture(e.pointerId);
    } catch (err) {
      // A pointer the browser does not track (a synthetic event): draw uncaptured.
    }
    const p = point(e);
    drawing = { id: e.pointerId, last: p };
    stroke(p, p);
  });
  pad.addEventListener("pointermove", (e) => {
    if (!drawing || e.pointerId !== drawing.id) return;
    e.preventDefault();
    const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [e];
    for (const ce of events.length ? events : [e]) {
      const p = point(ce);
      stroke(drawing.last, p);
      drawing.last = p;
    }
  });
  function endStroke(e) {
    if (!drawing || e.pointerId !== drawing.id) return;
    drawing = null;
    predict();
  }
  pad.addEventListener("pointerup", endStroke);
  pad.addEventListener("pointercancel", endStroke);
  document.getElementById("clear").addEventListener("click", clearPad);
  select.addEventListener("change", () => predict());

  // prepare turns the pad into 28x28 levels in [0, 1] as MNIST's digits
  // were made (and as onnxkit's digit.Prepare does for white ink on black):
  // the ink's bounding box scaled by area averaging to fit 20x20, levels
  // stretched so the strongest is 1, then placed with its centre of mass at
  // the centre of the field, and rounded to 8 bits. It returns null for an
  // empty pad.
  function prepare() {
    const w = pad.width, h = pad.height;
    const rgba = ctx.getImageData(0, 0, w, h).data;
    const g = new Float32Array(w * h);
    let peak = 0;
    for (let i = 0; i < w * h; i++) {
      const v = (0.299 * rgba[4 * i] + 0.587 * rgba[4 * i + 1] + 0.114 * rgba[4 * i + 2]) / 255;
      g[i] = v;
      if (v > peak) peak = v;
    }
    if (peak < 0.1) return null;
    let x0 = w, y0 = h, x1 = 0, y1 = 0;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const v = g[y * w + x] / peak;
        g[y * w + x] = v;
        if (v > 0.2) {
          x0 = Math.min(x0, x); y0 = Math.min(y0, y);
          x1 = Math.max(x1, x + 1); y1 = Math.max(y1, y + 1);
        }
      }
    }
    if (x1 === 0) return null;
    const bw = x1 - x0, bh = y1 - y0;
    const s = BOX / Math.max(bw, bh);
    const sw = Math.max(1, Math.round(bw * s)), sh = Math.max(1, Math.round(bh * s));
    const xs = coverage(bw, sw), ys = coverage(bh, sh);
    const scaled = new Float32Array(sw * sh);
    let speak = 0;
    for (let oy = 0; oy < sh; oy++) {
      for (let ox = 0; ox < sw; ox++) {
        let sum = 0;
        for (const [ty, wy] of ys[oy]) {
          let rs = 0;
          const row = (y0 + ty) * w + x0;
          for (const [tx, wx] of xs[ox]) rs += wx * g[row + tx];
          sum += wy * rs;
        }
        scaled[oy * sw + ox] = sum;
        if (sum > speak) speak = sum;
      }
    }
    let mass = 0, mx = 0, my = 0;
    for (let y = 0; y < sh; y++) {
      for (let x = 0; x < sw; x++) {
        const v = scaled[y * sw + x] / speak;
        scaled[y * sw + x] = v;
        mass += v; mx += v * (x + 0.5); my += v * (y + 0.5);
      }
    }
    let ox = Math.round(SIZE / 2 - mx / mass), oy = Math.round(SIZE / 2 - my / mass);
    ox = Math.min(Math.max(ox, 0), SIZE - sw);
    oy = Math.min(Math.max(oy, 0), SIZE - sh);
    const out = new Float32Array(SIZE * SIZE);
    for (let y = 0; y < sh; y++) {
      for (let x = 0; x < sw; x++) {
        const v = Math.min(Math.max(scaled[y * sw + x], 0), 1);
        out[(oy + y) * SIZE + ox + x] = Math.round(v * 255) / 255;
      }
    }
    return out;
  }

  // coverage gives, for each of m output pixels spanning n input pixels,
  // the input pixels it overlaps with their weights (summing to 1).
  function coverage(n, m) {
    const step = n / m, taps = [];
    for (let o = 0; o < m; o++) {
      const lo = o * step, hi = (o + 1) * step, t = [];
      for (let i = Math.floor(lo); i < n && i < hi; i++) {
        const ov = Math.min(hi, i + 1) - Math.max(lo, i);
        if (ov > 0) t.push([i, ov / step]);
      }
      taps.push(t);
    }
    return taps;
  }

  function showPreview(pix) {
    const pc = preview.getContext("2d");
    const img = pc.createImageData(SIZE, SIZE);
    for (let i = 0; i < SIZE * SIZE; i++) {
      const v = Math.round(pix[i] * 255);
      img.data[4 * i] = img.data[4 * i + 1] = img.data[4 * i + 2] = v;
      img.data[4 * i + 3] = 255;
    }
    pc.putImageData(img, 0, 0);
  }

  // probabilities: the softmax of the scores, or the scores themselves
  // when they already are probabilities.
  function probabilities(scores) {
    let sum = 0, isProb = true;
    for (const v of scores) {
      if (!(v >= 0 && v <= 1)) isProb = false;
      sum += v;
    }
    if (isProb && Math.abs(sum - 1) <= 1e-3) return scores.map((v) => v / sum);
    const m = Math.max(...scores);
    const e = scores.map((v) => Math.exp(v - m));
    const z = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / z);
  }

  function percent(p) {
    return p < 0.0005 ? "<0.1%" : (100 * p).toFixed(1) + "%";
  }

  async function predict() {
    const model = models.find((m) => m.name === select.value) || models[0];
    const pix = prepare();
    const my = ++seq;
    if (!pix) {
      clearPad();
      return;
    }
    showPreview(pix);
    const data = Array.from(pix, (p) => (p - model.mean) / model.std);
    const body = {
      id: String(my),
      inputs: [{ name: model.input, shape: model.shape, datatype: "FP32", data: data }],
      outputs: [{ name: model.output }],
    };
    setStatus("busy", "Asking " + model.name + "…");
    let res;
    try {
      const r = await fetch("/v2/models/" + encodeURIComponent(model.name) + "/infer", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
      res = await r.json();
      if (!r.ok) throw new Error(res.error || r.status + " " + r.statusText);
    } catch (err) {
      if (my === seq) setStatus("error", "Error: " + err.message);
      return;
    }
    if (my !== seq) return; // a later stroke has been sent since
    const out = res.outputs.find((o) => o.name === model.output);
    const p = probabilities(out.data.map(Number));
    const order = p.map((v, i) => [v, i]).sort((a, b) => b[0] - a[0]).slice(0, 3);
    const name = (i) => (model.classes ? model.classes[i] : String(i));
    predictionEl.textContent = name(order[0][1]);
    predictionEl.dataset.class = String(order[0][1]);
    confidenceEl.textContent = percent(order[0][0]);
    topEl.replaceChildren(...order.map(([v, i]) => {
      const li = document.createElement("li");
      li.dataset.class = String(i);
      const c = document.createElement("span");
      c.textContent = name(i);
      const track = document.createElement("span");
      const bar = document.createElement("span");
      bar.className = "bar";
      bar.style.display = "block";
      bar.style.width = Math.max(1, Math.round(100 * v)) + "%";
      track.append(bar);
      const pv = document.createElement("span");
      pv.className = "p";
      pv.textContent = percent(v);
      li.append(c, track, pv);
      return li;
    }));
    setStatus("done", "Model " + res.model_name + " (request " + res.id + ").");
  }

  clearPad();
})();
