// Page object for the webshell SPA: what a person sees and does, in test vocabulary.
import { expect } from '@playwright/test';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

export class TerminalPage {
  constructor(page) {
    this.page = page;
    // Every tab keeps its terminal in the page; the shown one is the person's.
    this.terminal = page.getByTestId('terminal').filter({ visible: true });
    this.status = page.getByTestId('status-line');
    this.rows = this.terminal.locator('.xterm-rows');
  }

  /** Opens the start page (of another server when `base` is given). */
  async openHome(base = '') {
    await this.page.goto(`${base}/`);
    await this.expectSignedIn();
  }

  async expectSignedIn() {
    await expect(this.page.getByTestId('namespace-select')).toHaveValue('demo');
  }

  /** The sign-in panel, for the server's mode. */
  signIn(mode) {
    return this.page.locator(`[data-testid=sign-in][data-mode=${mode}]`);
  }

  /** The status line says the exec was refused for want of pods/exec rights. */
  async expectForbiddenExec() {
    await expect(this.status).toHaveAttribute('data-state', 'error');
    await expect(this.status).toContainText('pods/exec');
    await expect(this.status).toContainText('forbidden');
  }

  async pickPod(name) {
    await this.page.getByTestId('pod-search').fill(name);
    await this.page.locator(`[data-testid=pod-row][data-pod="${name}"]`).click();
  }

  async expectConnected(shell) {
    await expect(this.status).toHaveAttribute('data-state', 'connected');
    if (shell) await expect(this.status).toContainText(shell);
  }

  /** Everything on the screen, with xterm's non-breaking spaces made plain. */
  async screenText() {
    const text = await this.rows.evaluate((el) =>
      Array.from(el.children).map((row) => row.textContent).join('\n'));
    return text.replace(/\u00a0/g, ' ');
  }

  async expectScreen(pattern) {
    await expect.poll(() => this.screenText()).toMatch(pattern);
  }

  /** Types into the terminal like a person (the xterm textarea has focus). */
  async type(text) {
    await this.terminal.click();
    await this.page.keyboard.type(text);
  }

  async run(command) {
    await this.type(command);
    await this.page.keyboard.press('Enter');
  }

  /** What a paste from the clipboard (menu, middle click) does: a paste event on xterm's
   *  textarea, carrying `text`. */
  async pasteEvent(text) {
    await this.terminal.locator('textarea').evaluate((area, pasted) => {
      const data = new DataTransfer();
      data.setData('text/plain', pasted);
      area.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
    }, text);
  }

  /** The terminal's size in cells, as xterm sees it. */
  async size() {
    const rows = await this.rows.evaluate((el) => el.children.length);
    const cols = await this.terminal.getAttribute('data-cols');
    return { rows, cols: Number(cols) };
  }
}

/** Whether the page keeps anything in JS storage (it must not: no token, ever). */
export async function jsStorage(page) {
  return page.evaluate(() => ({ local: localStorage.length, session: sessionStorage.length }));
}

/** kubectl against the test cluster, as admin. */
export async function kubectl(...args) {
  const { stdout } = await promisify(execFile)(process.env.KUBECTL || 'kubectl',
    ['--kubeconfig', process.env.KUBECONFIG_PATH, '--context', 'admin', ...args]);
  return stdout;
}

/** Whether a process runs in a demo pod (checked through the cluster with `kill -0`). */
export async function alive(pod, pid) {
  try {
    await kubectl('exec', '-n', 'demo', pod, '--', 'sh', '-c', `kill -0 ${pid}`);
    return true;
  } catch {
    return false;
  }
}
