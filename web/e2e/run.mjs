#!/usr/bin/env node
// Browser tests of the web app against a running `argus serve` (e2e/with-argus.sh starts
// one): Debian's Chromium driven by playwright-core.
//
//   ARGUS_URL=http://127.0.0.1:8080 node e2e/run.mjs
//
// ARGUS_URL          server to test (default http://127.0.0.1:8080)
// ARGUS_ARTIFACTS    where screenshots go (default ../test-artifacts, i.e. the repo's)
// ARGUS_SAMPLES      photos to upload (default ../../shared/data/imagenet-sample)
// ARGUS_ADMIN_EMAIL / ARGUS_ADMIN_PASSWORD   an admin account, to screenshot /ops (optional)
// CHROMIUM           browser binary (default /usr/bin/chromium)
//
// Prints one line per check and a closing "e2e: N passed, N failed"; exits 1 on failure.
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const webDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const base = (process.env.ARGUS_URL ?? 'http://127.0.0.1:8080').replace(/\/$/, '');
const artifacts = resolve(webDir, process.env.ARGUS_ARTIFACTS ?? '../test-artifacts');
const samples = resolve(webDir, process.env.ARGUS_SAMPLES ?? '../../shared/data/imagenet-sample');
const shots = join(artifacts, 'web');
mkdirSync(shots, { recursive: true });

const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 360, height: 740 };
const PHOTOS = [
  'n02088364_beagle.JPEG',
  'n01530575_brambling.JPEG',
  'n01440764_tench.JPEG',
  'n02123597_Siamese_cat.JPEG',
  'n02814533_beach_wagon.JPEG',
];
const DOG = PHOTOS[0];
/** The web app fetches images pending this long without news again (lib/uploads.tsx). */
const STALE_AFTER_MS = 15_000;
const TIMEOUT = Number(process.env.ARGUS_E2E_TIMEOUT_MS ?? 60_000);

let passed = 0;
let failed = 0;
const log = (line) => process.stdout.write(`${line}\n`);

async function check(name, fn) {
  const started = Date.now();
  try {
    await fn();
    passed++;
    log(`ok   ${name} (${Date.now() - started} ms)`);
    return true;
  } catch (error) {
    failed++;
    log(`FAIL ${name}: ${error?.stack ?? error}`);
    return false;
  }
}

function assert(condition, message) {
  if (!condition) throw new Error(message);
}

const userDataDir = mkdtempSync(join(tmpdir(), 'argus-e2e-'));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  viewport: DESKTOP,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});
context.setDefaultTimeout(TIMEOUT);
const page = context.pages()[0] ?? (await context.newPage());
const consoleErrors = [];
page.on('console', (message) => {
  if (message.type() === 'error') consoleErrors.push(message.text());
});
page.on('pageerror', (error) => consoleErrors.push(String(error)));

/**
 * Screenshots at desktop and phone width (and, with dark, in the dark colour scheme too);
 * fails when the phone layout scrolls sideways.
 */
async function shoot(name, { dark = false } = {}) {
  await page.setViewportSize(DESKTOP);
  await page.screenshot({ path: join(shots, `${name}-desktop.png`), fullPage: true });
  if (dark) {
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: join(shots, `${name}-desktop-dark.png`), fullPage: true });
    await page.emulateMedia({ colorScheme: 'light' });
  }
  await page.setViewportSize(PHONE);
  await page.waitForTimeout(150);
  await page.screenshot({ path: join(shots, `${name}-phone.png`), fullPage: true });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  await page.setViewportSize(DESKTOP);
  assert(overflow <= 0, `${name}: the page is ${overflow}px wider than a 360px screen`);
}

async function signup(email, password) {
  await page.goto(`${base}/signup`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByLabel('Confirm password').fill(password);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.waitForURL(`${base}/gallery`);
}

/** Waits until the focused element matches `selector`. */
async function focusOn(selector) {
  await page
    .waitForFunction((s) => document.activeElement?.matches(s), selector, { timeout: 5000 })
    .catch(async () => {
      const focused = await page.evaluate(() => document.activeElement?.outerHTML.slice(0, 80));
      throw new Error(`focus is on ${focused}, not on ${selector}`);
    });
}

const stamp = `${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
const first = { email: `e2e-a-${stamp}@example.com`, password: 'correct horse battery' };
const second = { email: `e2e-b-${stamp}@example.com`, password: 'another long password' };
const firstIds = [];

try {
  await check('landing page', async () => {
    await page.goto(`${base}/`);
    await page.getByRole('heading', { level: 1 }).waitFor();
    await shoot('landing', { dark: true });
  });

  await check('sign-up form validates, then signs up', async () => {
    await page.goto(`${base}/signup`);
    await page.getByLabel('Email').fill('not-an-email');
    await page.getByLabel('Password', { exact: true }).fill('short');
    await page.getByRole('button', { name: 'Sign up' }).click();
    await page.getByText('Use at least 8 characters.').waitFor();
    await shoot('signup-errors');
    await signup(first.email, first.password);
    await page.getByTestId('empty-state').waitFor();
    await focusOn('main');
    await shoot('gallery-empty');
  });

  await check('the log-in page sends a logged-in user on to the gallery', async () => {
    await page.goto(`${base}/login`);
    // Logged in already: the log-in page goes on to the gallery.
    await page.waitForURL(`${base}/gallery`);
  });

  await check('uploads five photos and sees labels appear without reloading', async () => {
    await page.goto(`${base}/gallery`);
    await page.getByTestId('empty-state').waitFor();
    await page.evaluate(() => {
      window.__argusNoReload = true;
    });
    await page.locator('input[type=file]').first().setInputFiles(PHOTOS.map((name) => join(samples, name)));
    const rows = page.getByTestId('upload-row');
    await rows.first().waitFor();
    assert((await rows.count()) === 5, `expected 5 upload rows, saw ${await rows.count()}`);
    await page.waitForFunction(
      () => document.querySelectorAll('[data-testid=upload-row][data-phase=done]').length === 5,
      null,
      { timeout: TIMEOUT },
    );
    assert(await page.evaluate(() => window.__argusNoReload === true), 'the page reloaded');
    const items = page.getByTestId('gallery-item');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=gallery-item]').length === 5);
    for (const id of await items.evaluateAll((els) => els.map((el) => el.dataset.id))) firstIds.push(id);
    const labels = await page.locator('.card-label').allInnerTexts();
    assert(labels.every((label) => label && !/\.jpe?g$/i.test(label)), `cards without labels: ${labels}`);
    await shoot('gallery', { dark: true });
  });

  await check('detail page shows labels, categories and the spirit dog for a dog photo', async () => {
    await page.goto(`${base}/gallery`);
    const dogCard = page.getByTestId('gallery-item').filter({ has: page.locator(`img[alt$="${DOG}"]`) });
    await dogCard.first().click();
    await page.waitForURL(/\/images\//);
    await page.getByTestId('labels').waitFor();
    const rows = await page.locator('.label-row').count();
    assert(rows >= 1 && rows <= 5, `expected 1–5 labels, saw ${rows}`);
    const chips = await page.getByRole('list', { name: 'Parent categories' }).innerText();
    assert(/dog/.test(chips), `no "dog" category chip: ${chips}`);
    const spirit = page.getByTestId('spirit-dog');
    await spirit.waitFor();
    const name = await spirit.locator('.spirit-name').innerText();
    assert(name.length > 0, 'spirit dog without a name');
    const current = await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Gallery' }).getAttribute('aria-current');
    assert(current === 'true', `the Gallery link is not marked current on a photo's page (${current})`);
    const photoOk = await spirit.locator('img').evaluate(
      (img) => new Promise((done) => (img.complete ? done(img.naturalWidth > 0) : (img.onload = () => done(true), img.onerror = () => done(false)))),
    );
    assert(photoOk, 'the breed reference photo did not load');
    await shoot('detail', { dark: true });
  });

  await check('search "dog" finds the dog and leaves out the fish', async () => {
    await page.goto(`${base}/gallery`);
    await page.getByLabel('Search by label or category').fill('dog');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(`${base}/gallery?label=dog`);
    await page.getByTestId('gallery-item').first().waitFor();
    const alts = await page.locator('[data-testid=gallery-item] img').evaluateAll((els) => els.map((el) => el.alt));
    assert(alts.some((alt) => alt.endsWith(DOG)), `dog photo missing from results: ${alts}`);
    assert(!alts.some((alt) => alt.endsWith(PHOTOS[2])), `the fish matched "dog": ${alts}`);
    await shoot('search-dog');
    // One long word wraps on a phone rather than widening the page.
    await page.goto(`${base}/gallery?label=${'x'.repeat(68)}`);
    await page.getByRole('heading', { level: 1 }).waitFor();
    await shoot('search-long-word');
  });

  await check('deletes a photo from its detail page', async () => {
    await page.goto(`${base}/images/${firstIds[0]}`);
    await page.getByRole('button', { name: 'Delete photo' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
    await page.waitForURL(`${base}/gallery`);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=gallery-item]').length === 4);
    const status = await page.request.get(`${base}/api/v1/images/${firstIds[0]}`);
    assert(status.status() === 404, `deleted image answers ${status.status()}`);
  });

  await check('selects two photos and deletes them', async () => {
    await page.getByRole('button', { name: 'Select', exact: true }).click();
    const boxes = page.getByRole('checkbox', { name: /^Select / });
    await boxes.nth(0).check();
    await boxes.nth(1).check();
    await shoot('gallery-select');
    await page.getByRole('button', { name: 'Delete 2' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=gallery-item]').length === 2);
  });

  await check('settings page creates an API token', async () => {
    await page.goto(`${base}/settings`);
    await page.getByLabel('Token name').fill('e2e script');
    await page.getByRole('button', { name: /Create token/ }).click();
    const token = await page.getByTestId('new-token').innerText();
    assert(token.length >= 16, 'token too short');
    // The longest name the server takes, without a space: the phone layout must hold it.
    await page.getByLabel('Token name').fill('x'.repeat(100));
    await page.getByRole('button', { name: /Create token/ }).click();
    await page.getByRole('cell', { name: 'x'.repeat(100), exact: true }).waitFor();
    await shoot('settings');
  });

  await check('logs out', async () => {
    await page.getByRole('button', { name: 'Menu' }).isVisible().then(async (phone) => {
      if (phone) await page.getByRole('button', { name: 'Menu' }).click();
    });
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForURL(`${base}/login`);
    await shoot('login');
    const me = await page.request.get(`${base}/api/v1/auth/me`);
    assert(me.status() === 401, `after logout /auth/me answers ${me.status()}`);
  });

  await check('log-in form rejects a wrong password', async () => {
    await page.getByLabel('Email').fill(first.email);
    await page.getByLabel('Password', { exact: true }).fill('definitely wrong');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('alert').waitFor();
    await focusOn('[role=alert]');
    await shoot('login-error');
  });

  await check('a second account sees none of the first account’s photos', async () => {
    await signup(second.email, second.password);
    await page.getByTestId('empty-state').waitFor();
    for (const id of firstIds.slice(3)) {
      for (const suffix of ['', '/file', '/thumbnail']) {
        const response = await page.request.get(`${base}/api/v1/images/${id}${suffix}`);
        assert(response.status() === 404, `GET /api/v1/images/${id}${suffix} answers ${response.status()}`);
      }
      const del = await page.request.delete(`${base}/api/v1/images/${id}`, {
        headers: { 'X-CSRF-Token': await page.evaluate(() => /argus_csrf=([^;]+)/.exec(document.cookie)?.[1] ?? '') },
      });
      assert(del.status() === 404, `DELETE of another account's image answers ${del.status()}`);
    }
    await page.goto(`${base}/images/${firstIds[4]}`);
    await page.getByTestId('detail-error').waitFor();
    await shoot('detail-not-found');
  });

  // The first account a server ever gets is its administrator, so on a fresh server the
  // first account above may be one; the second account never is.
  await check('ops dashboard is refused to members', async () => {
    const me = await (await page.request.get(`${base}/api/v1/auth/me`)).json();
    assert(me?.user?.email === second.email, `expected to be logged in as ${second.email}`);
    assert(me.user.is_admin === false, `${second.email} is an administrator`);
    await page.goto(`${base}/ops`);
    await page.getByTestId('ops-forbidden').waitFor();
    const status = await page.request.get(`${base}/api/v1/ops/status`);
    assert(status.status() === 403, `a member gets ${status.status()} from /api/v1/ops/status`);
  });

  await check('a refused first upload leaves a way to upload again', async () => {
    await page.goto(`${base}/gallery`);
    await page.getByTestId('empty-state').waitFor();
    await page.locator('input[type=file]').first().setInputFiles({
      name: 'notes.txt',
      mimeType: 'text/plain',
      buffer: Buffer.from('not a photo\n'),
    });
    await page.locator('[data-testid=upload-row][data-phase=failed]').waitFor();
    await page.getByTestId('dropzone').waitFor();
    assert(!(await page.getByText('will appear here').count()), 'photos promised while nothing is on its way');
    await shoot('gallery-refused-first');
    await page.getByRole('button', { name: 'Dismiss notes.txt' }).click();
    await page.getByTestId('empty-state').waitFor();
  });

  await check('a batch of 40 photos turns done from events alone, before any re-fetch', async () => {
    await page.goto(`${base}/gallery`);
    await page.getByTestId('empty-state').waitFor();
    const batch = readdirSync(samples).filter((name) => name.endsWith('.JPEG')).sort().slice(0, 40);
    assert(batch.length === 40, `only ${batch.length} sample photos`);
    const started = Date.now();
    await page.locator('input[type=file]').first().setInputFiles(batch.map((name) => join(samples, name)));
    // Rows and cards still pending are fetched again after STALE_AFTER_MS; only the event
    // stream can finish them sooner.
    const settled = () => {
      const rows = [...document.querySelectorAll('[data-testid=upload-row]')];
      const pending = '[data-testid=gallery-item] .badge:is([data-status=queued], [data-status=processing])';
      return rows.length === 40 && rows.every((row) => ['done', 'failed'].includes(row.dataset.phase)) &&
        document.querySelectorAll('[data-testid=gallery-item]').length === 40 && !document.querySelector(pending);
    };
    await page.waitForFunction(settled, null, { timeout: STALE_AFTER_MS - 1000, polling: 100 }).catch(async () => {
      const rows = await page.getByTestId('upload-row').evaluateAll((els) =>
        els.filter((el) => !['done', 'failed'].includes(el.dataset.phase)).map((el) => el.innerText.split('\n')[0]),
      );
      throw new Error(`after ${Date.now() - started} ms still pending: ${rows.join(', ') || 'gallery cards only'}`);
    });
    await shoot('gallery-batch');
  });

  await check('seven open tabs share one event stream, and an upload is not held up', async () => {
    // HTTP/1.1 gives a browser six connections to the server, and each tab's stream held one
    // for up to 25 s: with six tabs open an upload, or another tab's news of it, waited about
    // 22 s for a connection, and so did a seventh tab's page.
    const started = Date.now();
    const tabs = [];
    for (let i = 0; i < 6; i++) {
      const tab = await context.newPage();
      await tab.goto(`${base}/gallery`);
      await tab.getByTestId('gallery-item').first().waitFor();
      tabs.push(tab);
    }
    const last = tabs[tabs.length - 1];
    const before = await last.evaluate(() => document.querySelector('[data-testid=gallery-item]')?.dataset.id);
    const name = readdirSync(samples).filter((file) => file.endsWith('.JPEG')).sort()[40];
    await page.bringToFront();
    await page.locator('input[type=file]').first().setInputFiles(join(samples, name));
    await page.waitForFunction(
      (file) => [...document.querySelectorAll('[data-testid=upload-row]')].some(
        (row) => row.dataset.phase === 'done' && row.innerText.includes(file)),
      name,
      { timeout: 30_000, polling: 100 },
    );
    // Another tab hears of it live, on the shared stream: the new photo heads its gallery.
    await last.waitForFunction(
      (seen) => {
        const id = document.querySelector('[data-testid=gallery-item]')?.dataset.id;
        return id && id !== seen;
      },
      before,
      { timeout: 30_000, polling: 100 },
    );
    const took = Date.now() - started;
    for (const tab of tabs) await tab.close();
    assert(took < 10_000, `six tabs opened and an upload shown in them in ${took} ms`);
  });

  await check('changes the password, then deletes the account', async () => {
    const third = { email: `e2e-c-${stamp}@example.com`, password: 'a third long password' };
    await page.request.post(`${base}/api/v1/auth/logout`, {
      headers: { 'X-CSRF-Token': await page.evaluate(() => /argus_csrf=([^;]+)/.exec(document.cookie)?.[1] ?? '') },
    });
    await signup(third.email, third.password);
    await page.goto(`${base}/settings`);
    const form = page.locator('section', { has: page.getByRole('heading', { name: 'Password' }) });
    await form.getByLabel('Current password').fill(third.password);
    await form.getByLabel('New password', { exact: true }).fill('the changed password');
    await form.getByLabel('Confirm new password').fill('the changed password');
    await form.getByRole('button', { name: 'Change password' }).click();
    await form.getByRole('status').filter({ hasText: 'Password changed' }).waitFor();
    const me = await page.request.get(`${base}/api/v1/auth/me`);
    assert(me.status() === 200, `the session that changed the password answers ${me.status()}`);

    await page.getByRole('button', { name: 'Delete account…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete your account?' });
    await dialog.getByLabel('Password', { exact: true }).fill(third.password);
    await dialog.getByRole('button', { name: 'Delete account' }).click();
    await dialog.getByText('That is not your password.').waitFor();
    await shoot('delete-account');
    await dialog.getByLabel('Password', { exact: true }).fill('the changed password');
    await dialog.getByRole('button', { name: 'Delete account' }).click();
    await page.waitForURL(`${base}/`);
    const after = await page.request.get(`${base}/api/v1/auth/me`);
    assert(after.status() === 401, `after the deletion /auth/me answers ${after.status()}`);
    const login = await page.request.post(`${base}/api/v1/auth/login`, {
      data: { email: third.email, password: 'the changed password' },
    });
    assert(login.status() === 401, `the deleted account logs in with ${login.status()}`);
  });

  if (process.env.ARGUS_ADMIN_EMAIL && process.env.ARGUS_ADMIN_PASSWORD) {
    await check('admin sees the ops dashboard', async () => {
      await page.request.post(`${base}/api/v1/auth/logout`, {
        headers: { 'X-CSRF-Token': await page.evaluate(() => /argus_csrf=([^;]+)/.exec(document.cookie)?.[1] ?? '') },
      });
      await page.goto(`${base}/login`);
      await page.getByLabel('Email').fill(process.env.ARGUS_ADMIN_EMAIL);
      await page.getByLabel('Password', { exact: true }).fill(process.env.ARGUS_ADMIN_PASSWORD);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.waitForURL(`${base}/gallery`);
      await page.goto(`${base}/ops`);
      await page.getByTestId('ops-tiles').waitFor();
      await page.waitForTimeout(7000); // a few samples for the charts
      await shoot('ops', { dark: true });
    });
  }

  await check('no script errors in the console', async () => {
    const unexpected = consoleErrors.filter((text) => !/status of 40[134]|Failed to load resource/.test(text));
    assert(unexpected.length === 0, unexpected.join('\n'));
  });
} finally {
  await context.close();
  rmSync(userDataDir, { recursive: true, force: true });
}

log(`screenshots in ${shots}`);
log(`e2e: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
