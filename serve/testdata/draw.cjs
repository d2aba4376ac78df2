// Draws digits with the mouse on onnxkit serve's page in headless Chromium
// and prints what the page predicts, as JSON, one object per digit.
//
// Usage: NODE_PATH=.tools/node_modules node serve/testdata/draw.cjs URL SHOTS_DIR
//
// CHROMIUM names the browser (default /usr/bin/chromium). Run by
// serve's TestBrowser; playwright-core must be installed (npm), its own
// browser download is not used.
"use strict";

const fs = require("fs");
const os = require("os");
const path = require("path");
const { chromium } = require("playwright-core");

// Strokes in the pad's 280x280 pixels, each a polyline drawn with the
// mouse button held down, or as touch pointer events.
const digits = [
  { digit: "4", touch: true, strokes: [[[95, 45], [75, 165], [205, 165]], [[170, 60], [165, 240]]] },
  { digit: "1", strokes: [[[145, 45], [140, 235]]] },
  { digit: "7", strokes: [[[75, 60], [205, 60], [130, 235]]] },
  {
    digit: "0",
    strokes: [Array.from({ length: 41 }, (_, i) => {
      const a = (2 * Math.PI * i) / 40;
      return [140 + 55 * Math.sin(a), 140 - 90 * Math.cos(a)];
    })],
  },
];

// touchStroke draws a polyline as the pointer events of a finger: Chromium
// headless has no touch screen to drive, so they are dispatched on the pad.
async function touchStroke(page, points) {
  await page.evaluate((pts) => {
    const pad = document.getElementById("pad");
    const ev = (type, [x, y]) => pad.dispatchEvent(new PointerEvent(type, {
      pointerId: 7, pointerType: "touch", isPrimary: true, button: type === "pointermove" ? -1 : 0,
      buttons: type === "pointerup" ? 0 : 1, clientX: x, clientY: y, bubbles: true, cancelable: true,
    }));
    ev("pointerdown", pts[0]);
    for (let i = 1; i < pts.length; i++) {
      const [x0, y0] = pts[i - 1], [x1, y1] = pts[i];
      for (let k = 1; k <= 8; k++) ev("pointermove", [x0 + (x1 - x0) * k / 8, y0 + (y1 - y0) * k / 8]);
    }
    ev("pointerup", pts[pts.length - 1]);
  }, points);
}

async function main() {
  const [url, shots] = process.argv.slice(2);
  if (!url || !shots) throw new Error("usage: draw.cjs URL SHOTS_DIR");
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "onnxkit-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    viewport: { width: 800, height: 600 },
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const results = [];
  try {
    const page = context.pages()[0] || (await context.newPage());
    const logs = [];
    page.on("console", (m) => logs.push(m.type() + ": " + m.text()));
    page.on("pageerror", (e) => logs.push("pageerror: " + e.message));
    await page.goto(url, { timeout: 15000 });
    const pad = await page.locator("#pad").boundingBox();
    const sx = pad.width / 280, sy = pad.height / 280;
    for (const d of digits) {
      await page.click("#clear");
      const afterStroke = [];
      for (const stroke of d.strokes) {
        await page.evaluate(() => { document.getElementById("status").dataset.state = ""; });
        if (d.touch) {
          await touchStroke(page, stroke.map(([x, y]) => [pad.x + x * sx, pad.y + y * sy]));
        } else {
          const [x0, y0] = stroke[0];
          await page.mouse.move(pad.x + x0 * sx, pad.y + y0 * sy);
          await page.mouse.down();
          for (const [x, y] of stroke.slice(1)) {
            await page.mouse.move(pad.x + x * sx, pad.y + y * sy, { steps: 8 });
          }
          await page.mouse.up();
        }
        // Each stroke updates the prediction.
        await page.waitForFunction(() => {
          const s = document.getElementById("status").dataset.state;
          return s === "done" || s === "error";
        }, null, { timeout: 15000 });
        afterStroke.push(await page.evaluate(() => document.getElementById("prediction").dataset.class));
      }
      const r = await page.evaluate(() => ({
        state: document.getElementById("status").dataset.state,
        status: document.getElementById("status").textContent,
        shown: document.getElementById("prediction").textContent,
        class: document.getElementById("prediction").dataset.class,
        confidence: document.getElementById("confidence").textContent,
        top: Array.from(document.querySelectorAll("#top li"), (li) => Array.from(li.children, (c) => c.textContent).filter(Boolean).join(" ")),
      }));
      const shot = path.join(shots, "draw-" + d.digit + ".png");
      await page.screenshot({ path: shot });
      results.push({ digit: d.digit, input: d.touch ? "touch" : "mouse", afterStroke, screenshot: shot, ...r });
    }
    if (logs.length) process.stderr.write(logs.join("\n") + "\n");
  } finally {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  process.stdout.write(JSON.stringify(results) + "\n");
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack || e) + "\n");
  process.exit(1);
});
