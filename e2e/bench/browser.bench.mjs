// Browser figures for BENCHMARKS.md: navigation to the first prompt, Ctrl-C during a flood,
// and how fast xterm.js takes output, in Debian's Chromium. BENCH_SMOKE=1: fewer, smaller.
//
// Two Playwright projects run this file (bench.config.mjs): `dom`, where Chromium has no WebGL
// and xterm draws with its DOM renderer, and `webgl`. The canvas has no text to read, so
// besides the screen (DOM only) the figures also come from the socket, the same way for both
// renderers: the browser acknowledges output once xterm.js has processed it (protocol Ack
// frames), so "the prompt processed" is the moment the acks reach the byte that ends it.
import { test, expect } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const smoke = process.env.BENCH_SMOKE === '1';
const reps = smoke ? 2 : 7;
const out = process.env.BENCH_BROWSER_OUT || 'test-results/bench/browser.json';
const results = {};
const record = (key, value) => (results[key] ??= []).push(value);

const rows = (page) => page.locator('[data-testid=terminal] .xterm-rows');
const screen = async (page) => (await rows(page).textContent()).replace(/\u00a0/g, ' ');

// The wire format (protocol/src/lib.rs): bincode 2, a varint tag, then the fields; a byte
// string is a varint length and the bytes. Stdout is server frame 1, Ack client frame 4.
const STDOUT = 1;
const ACK = 4;
function varint(buf, at) {
  const b = buf[at];
  if (b < 251) return [b, at + 1];
  if (b === 251) return [buf.readUInt16LE(at + 1), at + 3];
  if (b === 252) return [buf.readUInt32LE(at + 1), at + 5];
  return [Number(buf.readBigUInt64LE(at + 1)), at + 9];
}

/** The terminal socket's output and acks: when has xterm.js processed a given text? */
class Flow {
  constructor(page) {
    this.received = 0; // output bytes the page got
    this.acked = 0; // output bytes xterm.js processed
    this.tail = Buffer.alloc(0); // the end of the output so far, for a text split over frames
    this.watches = [];
    page.on('websocket', (ws) => {
      ws.on('framereceived', ({ payload }) => this.output(payload));
      ws.on('framesent', ({ payload }) => this.ack(payload));
    });
  }

  output(payload) {
    if (typeof payload === 'string' || payload[0] !== STDOUT) return;
    const [len, at] = varint(payload, 1);
    const bytes = payload.subarray(at, at + len);
    const text = Buffer.concat([this.tail, bytes]);
    this.received += len;
    for (const w of this.watches) {
      // Only a match that ends in this frame's bytes: one within the tail was seen before.
      for (let at = text.indexOf(w.needle); w.end === undefined && at >= 0; at = text.indexOf(w.needle, at + 1)) {
        if (at + w.needle.length > this.tail.length) w.end = this.received;
      }
    }
    this.tail = text.subarray(Math.max(0, text.length - 64));
    this.settle();
  }

  ack(payload) {
    if (typeof payload === 'string' || payload[0] !== ACK) return;
    this.acked += varint(payload, 1)[0];
    this.settle();
  }

  settle() {
    this.watches = this.watches.filter((w) => {
      if (w.end === undefined || this.acked < w.end) return true;
      w.resolve(Date.now());
      return false;
    });
  }

  /** Resolves with the time xterm.js has processed the next output that contains `needle`. */
  processed(needle, timeout = 240_000) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`"${needle}" not processed within ${timeout} ms`)), timeout);
      const done = (at) => { clearTimeout(timer); resolve(at); };
      this.watches.push({ needle: Buffer.from(needle), resolve: done });
    });
  }
}

async function signedIn(browser) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`/?secret=${process.env.BENCH_LOCAL_SECRET}`);
  return { context, page };
}

/**
 * Signed in without loading the app (the launch URL's answer sets the cookie in the context),
 * so the page's first navigation fetches and compiles everything, as on a first visit.
 * `signedIn` loads the app once: the terminal page after it finds everything cached.
 */
async function signedInCold(browser) {
  const context = await browser.newContext();
  const answer = await context.request.get(`/?secret=${process.env.BENCH_LOCAL_SECRET}`, { maxRedirects: 0 });
  expect(answer.status()).toBe(303);
  const page = await context.newPage();
  return { context, page };
}

async function openTerminal(browser) {
  const { context, page } = await signedIn(browser);
  const flow = new Flow(page);
  await page.goto('/t/demo/bash-pod/main');
  await expect(page.getByTestId('status-line')).toHaveAttribute('data-state', 'connected');
  return { context, page, flow };
}

/** Types a command in the terminal. */
async function run(page, command) {
  await page.getByTestId('terminal').click();
  await page.keyboard.type(command);
  await page.keyboard.press('Enter');
}

test.afterAll(({}, testInfo) => {
  // Both projects add to one file (they run one after the other); ./x bench removes it first.
  const all = existsSync(out) ? JSON.parse(readFileSync(out, 'utf8')) : {};
  all.chromium = execFileSync(process.env.CHROMIUM || '/usr/bin/chromium', ['--version']).toString().trim();
  all[testInfo.project.name] = { ...(all[testInfo.project.name] ?? {}), ...results };
  writeFileSync(out, JSON.stringify(all, null, 2));
  for (const key of Object.keys(results)) delete results[key];
});

test('navigation to the first prompt', async ({ browser }) => {
  for (let i = 0; i < reps; i++) {
    // A fresh context each time, signed in without loading the app: nothing cached.
    const { context, page } = await signedInCold(browser);
    // Timed by the page's own clock (from navigation start), not through the DevTools
    // protocol, whose events reach this process tens of milliseconds late: when the
    // terminal's socket opens, when its first frame arrives, and the first animation frame
    // whose rows end in a prompt.
    await page.addInitScript(() => {
      const marks = (window.benchMarks = {});
      const Native = window.WebSocket;
      window.WebSocket = class extends Native {
        constructor(...args) {
          super(...args);
          marks.socket ??= performance.now();
          this.addEventListener('message', () => { marks.frame ??= performance.now(); });
        }
      };
      const look = () => {
        const rows = document.querySelector('[data-testid=terminal] .xterm-rows');
        if (rows && /[$#] *$/m.test(rows.textContent.replace(/\u00a0/g, ' '))) {
          marks.prompt = performance.now();
        } else {
          requestAnimationFrame(look);
        }
      };
      requestAnimationFrame(look);
    });
    await page.goto('/t/demo/bash-pod/main');
    const marks = await expect.poll(() => page.evaluate(() => window.benchMarks), { intervals: [20] })
      .toHaveProperty('prompt').then(() => page.evaluate(() => window.benchMarks));
    record('first_prompt_ms', marks.prompt);
    record('first_prompt_socket_ms', marks.socket);
    record('first_prompt_output_ms', marks.frame - marks.socket);
    record('first_prompt_drawn_ms', marks.prompt - marks.frame);
    // What crossed the network for it, as Chromium counts it (compressed bodies): the page,
    // everything it fetched that had arrived by the prompt, and the API's answers.
    const fetched = await page.evaluate((prompt) => [
      ...performance.getEntriesByType('navigation'),
      ...performance.getEntriesByType('resource').filter((e) => e.responseEnd <= prompt),
    ].reduce((sum, e) => sum + e.encodedBodySize, 0), marks.prompt);
    record('first_prompt_fetched_kb', fetched / 1000);
    await context.close();
  }
});

test('Ctrl-C during a flood brings the prompt back', async ({ browser }, testInfo) => {
  const dom = testInfo.project.name === 'dom';
  const { context, page, flow } = await openTerminal(browser);
  const ready = flow.processed('READY> ');
  await run(page, "PS1='READY''> '");
  await ready;
  for (let i = 0; i < reps; i++) {
    await run(page, 'clear; yes');
    await page.waitForTimeout(1000);
    const processed = flow.processed('READY> ', 30_000);
    const pressed = Date.now();
    await page.keyboard.press('Control+C');
    if (dom) {
      await expect.poll(() => screen(page), { intervals: [5], timeout: 30_000 }).toMatch(/READY> *$/m);
      record('ctrl_c_ms', Date.now() - pressed);
    }
    record('ctrl_c_processed_ms', (await processed) - pressed);
  }
  await context.close();
});

test('output taken per second', async ({ browser }, testInfo) => {
  const dom = testInfo.project.name === 'dom';
  const { context, page, flow } = await openTerminal(browser);
  const lines = smoke ? 100_000 : 2_000_000;
  // `seq 1 N`: every number and its newline.
  let size = 0;
  for (let n = 1; n <= lines; n++) size += String(n).length + 1;
  const written = flow.processed('WRITTEN> ');
  await run(page, `seq 1 ${lines} > $HOME/render.txt; PS1='WRITTEN''> '; clear`);
  await written;
  for (let i = 0; i < Math.min(reps, 3); i++) {
    const processed = flow.processed('RENDERDONE');
    const started = Date.now();
    await run(page, `clear; cat $HOME/render.txt; echo RENDER''DONE`);
    if (dom) {
      // The last round's RENDERDONE stays on screen until this round's `clear` ran.
      await expect.poll(() => screen(page), { intervals: [20], timeout: 240_000 }).not.toContain('RENDERDONE');
      await expect.poll(() => screen(page), { intervals: [20], timeout: 240_000 }).toContain('RENDERDONE');
      record('render_mb_per_s', size / 1e6 / ((Date.now() - started) / 1000));
    }
    record('processed_mb_per_s', size / 1e6 / (((await processed) - started) / 1000));
  }
  await context.close();
});
