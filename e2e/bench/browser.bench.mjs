// Browser figures for BENCHMARKS.md: navigation to the first prompt, Ctrl-C during a flood,
// and how fast xterm.js renders output, in Debian's Chromium. BENCH_SMOKE=1: fewer, smaller.
import { test, expect } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';

const smoke = process.env.BENCH_SMOKE === '1';
const reps = smoke ? 2 : 7;
const results = { chromium: '', first_prompt_ms: [], ctrl_c_ms: [], render_mb_per_s: [] };

const rows = (page) => page.locator('[data-testid=terminal] .xterm-rows');
const screen = async (page) => (await rows(page).textContent()).replace(/\u00a0/g, ' ');

async function signedIn(browser) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`/?secret=${process.env.BENCH_LOCAL_SECRET}`);
  return { context, page };
}

/** Types a command in the terminal. */
async function run(page, command) {
  await page.getByTestId('terminal').click();
  await page.keyboard.type(command);
  await page.keyboard.press('Enter');
}

test.afterAll(() => {
  results.chromium = execFileSync(process.env.CHROMIUM || '/usr/bin/chromium', ['--version']).toString().trim();
  writeFileSync(process.env.BENCH_BROWSER_OUT || 'test-results/bench/browser.json', JSON.stringify(results, null, 2));
});

test('navigation to the first prompt', async ({ browser }) => {
  for (let i = 0; i < reps; i++) {
    // A fresh context each time: nothing cached, as on a first visit.
    const { context, page } = await signedIn(browser);
    const started = Date.now();
    await page.goto('/t/demo/bash-pod/main');
    await expect.poll(() => screen(page), { intervals: [5] }).toMatch(/[$#] *$/m);
    results.first_prompt_ms.push(Date.now() - started);
    await context.close();
  }
});

test('Ctrl-C during a flood brings the prompt back', async ({ browser }) => {
  const { context, page } = await signedIn(browser);
  await page.goto('/t/demo/bash-pod/main');
  await expect(page.getByTestId('status-line')).toHaveAttribute('data-state', 'connected');
  await run(page, "PS1='READY''> '");
  await expect.poll(() => screen(page)).toContain('READY> ');
  for (let i = 0; i < reps; i++) {
    await run(page, 'clear; yes');
    await page.waitForTimeout(1000);
    const pressed = Date.now();
    await page.keyboard.press('Control+C');
    await expect.poll(() => screen(page), { intervals: [5], timeout: 30_000 }).toMatch(/READY> *$/m);
    results.ctrl_c_ms.push(Date.now() - pressed);
  }
  await context.close();
});

test('output rendered per second', async ({ browser }) => {
  const { context, page } = await signedIn(browser);
  await page.goto('/t/demo/bash-pod/main');
  await expect(page.getByTestId('status-line')).toHaveAttribute('data-state', 'connected');
  const lines = smoke ? 100_000 : 2_000_000;
  // `seq 1 N`: every number and its newline.
  let size = 0;
  for (let n = 1; n <= lines; n++) size += String(n).length + 1;
  await run(page, `seq 1 ${lines} > $HOME/render.txt; clear`);
  await page.waitForTimeout(2000);
  for (let i = 0; i < Math.min(reps, 3); i++) {
    const started = Date.now();
    await run(page, `clear; cat $HOME/render.txt; echo RENDER''DONE`);
    await expect.poll(() => screen(page), { intervals: [20], timeout: 240_000 }).toContain('RENDERDONE');
    results.render_mb_per_s.push(size / 1e6 / ((Date.now() - started) / 1000));
  }
  await context.close();
});
