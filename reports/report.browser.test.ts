/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The HTML report in a real headless browser (Debian's chromium driven by playwright-core):
 * it loads with no console errors and no network requests, and every chart draws.
 * A screenshot is kept in test-artifacts/report.png.
 */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { describe, expect, it } from "vitest";
import { renderAll } from "./index.ts";
import { sampleLog } from "./testdata/sample-log.ts";

const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));
const reason = "Debian's chromium is not installed (apt-get install chromium); .ci/run installs it";
if (CHROMIUM === undefined && process.env.CI !== "true")
  process.stdout.write(`skipping browser test: ${reason}\n`);

describe.skipIf(CHROMIUM === undefined && process.env.CI !== "true")(
  "report.html in headless Chromium",
  () => {
    it("loads offline with no console errors and renders all four charts", async () => {
      expect(CHROMIUM, reason).toBeDefined();
      const dir = await mkdtemp(join(tmpdir(), "gtb-html-"));
      const file = join(dir, "report.html");
      await writeFile(file, renderAll(sampleLog()).files["report.html"]);
      const browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-quic",
          "--no-first-run",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
        ],
      });
      try {
        const page = await browser.newPage({ viewport: { width: 1200, height: 1400 } });
        const errors: string[] = [];
        const requests: string[] = [];
        page.on("console", (m) => {
          if (m.type() === "error") errors.push(m.text());
        });
        page.on("pageerror", (e) => errors.push(e.message));
        page.on("request", (r) => {
          if (!r.url().startsWith("file://")) requests.push(r.url());
        });
        await page.goto(`file://${file}`);
        await page.waitForFunction(() => document.body.dataset.chartsRendered === "4", undefined, {
          timeout: 20_000,
        });
        const painted = await page.evaluate(() =>
          Array.from(document.querySelectorAll("canvas")).map((c) => {
            const ctx = (c as HTMLCanvasElement).getContext("2d");
            if (ctx === null) return 0;
            const { data } = ctx.getImageData(
              0,
              0,
              (c as HTMLCanvasElement).width,
              (c as HTMLCanvasElement).height,
            );
            let n = 0;
            for (let i = 3; i < data.length; i += 4) if ((data[i] ?? 0) > 0) n++;
            return n;
          }),
        );
        await mkdir("test-artifacts", { recursive: true });
        await page.screenshot({ path: "test-artifacts/report.png", fullPage: true });
        expect(errors).toEqual([]);
        expect(requests).toEqual([]);
        expect(painted).toHaveLength(4);
        for (const p of painted) expect(p).toBeGreaterThan(500);
      } finally {
        await browser.close();
      }
    });
  },
);
