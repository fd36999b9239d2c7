/**
 * The dashboard end to end in real Chromium (browser.ts): the page as built by `npm run
 * build:ui`, served by createHttpServer, against a real client running real jobs.
 *
 * Scenarios that involve the store (charts advancing as jobs run, a failed job found, retried and
 * completing, a queue paused from the page, the workers page) run on both stores. The others run
 * on SQLite only, and say why: what they check (escaping, the login form, the CSRF refusal, the
 * theme and keys) happens in the page and in the dashboard's own hooks before any store call.
 *
 * Every wait is for a condition (an element, a text, a job state), never for a time; a condition
 * that does not come fails after the page's default timeout. Screenshots of every page go to
 * test-artifacts/dashboard/ (not committed).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { after, before, it } from 'node:test';
import type { Page } from 'playwright-core';
import { defineTask, type Offload } from '../../src/index.ts';
import { DEFAULT_ASSETS_DIR } from '../../src/http/dashboard/assets.ts';
import { deferred, nextEvent } from '../e2e/helpers.ts';
import { sqliteTestStore } from '../stores.ts';
import { CHROMIUM, launchBrowser, openPage, screenshot, type Browser } from './browser.ts';
import { dashboardSuite, dashboardSuiteOn, OPS, TOKENS } from './harness.ts';

const INJECTED = `<script>window.pwned = 1</script><img src=x onerror="window.pwned = 1"><svg onload="window.pwned = 1"></svg>`;

function requireSetup(): void {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does it)`);
  assert.ok(existsSync(`${DEFAULT_ASSETS_DIR}/index.html`), 'the page is not built: npm install runs npm run build:ui');
}

/** The number in an element's text (e.g. a tile's "1,204"). */
async function numberIn(page: Page, selector: string): Promise<number> {
  return Number((await page.locator(selector).innerText()).replace(/[^0-9.-]/g, ''));
}

/** Waits until the page's condition holds, re-checked on every animation frame. */
async function until(page: Page, condition: () => unknown): Promise<void> {
  await page.waitForFunction(condition, undefined, { polling: 'raf' });
}

// The functions given to page.evaluate and waitForFunction run in the page, where these exist.
// Declared here, in this module only: the test's own code has no DOM.
interface PageElement {
  id: string;
  textContent: string | null;
}
declare const document: {
  querySelector(selector: string): PageElement | null;
  activeElement: PageElement | null;
  documentElement: { dataset: Record<string, string | undefined> };
  cookie: string;
};
declare const window: { pwned?: number };
declare function fetch(url: string, init: { method: string }): Promise<{ status: number; json(): Promise<unknown> }>;

function jobsWaitFor(offload: Offload, ids: string[]): Promise<unknown> {
  return Promise.all(ids.map((id) => offload.jobs.waitFor(id)));
}

// One Chromium for the file; each test opens its own page without the others' cookies.
let browser: Browser | undefined;
before(async () => {
  requireSetup();
  browser = await launchBrowser();
});
after(async () => browser?.close());

dashboardSuite('dashboard in Chromium', ({ serve, client, unique, store }) => {

  it('the overview loads with history and its charts advance as jobs run', async () => {
    const queue = unique('ov');
    const task = defineTask({ name: unique('ov.work'), queue, handler: async (p: { n: number }) => ({ doubled: p.n * 2 }) });
    const { server, offload } = serve({ offload: { tasks: [task] } });
    const url = await server.listen({ port: 0 });
    await offload.start({ concurrency: 4, queues: [queue] });
    const { page, problems } = await openPage(browser!);
    await page.goto(`${url}/`);
    await page.locator('#chart-throughput canvas').waitFor();
    await page.locator('#stream-status.stream-live').waitFor();
    const samplesBefore = Number(await page.locator('#chart-throughput').getAttribute('data-samples'));
    const completedBefore = await numberIn(page, '#tile-completed .tile-value');

    const jobs = await Promise.all(Array.from({ length: 8 }, async (_, n) => (await offload.enqueue(task, { n })).job.id));
    await jobsWaitFor(offload, jobs);
    // The samples that counted them arrive within a second or two; the page adds them up.
    await page.waitForFunction((n: number) => Number(document.querySelector('#tile-completed .tile-value')?.textContent?.replace(/[^0-9]/g, '')) >= n, completedBefore + 8, { polling: 'raf' });
    const samplesAfter = Number(await page.locator('#chart-throughput').getAttribute('data-samples'));
    assert.ok(samplesAfter > samplesBefore, `the charts took new samples (${samplesBefore} -> ${samplesAfter})`);
    for (const id of ['chart-throughput', 'chart-depth', 'chart-wait', 'chart-run', 'chart-loop', 'chart-utilisation']) {
      assert.equal(await page.locator(`#${id} canvas`).count(), 1, id);
    }
    await screenshot(page, `${store.name}-overview`);
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('a failed job is found by filter, its error shown, retried from the page and seen completing', async () => {
    const queue = unique('pay');
    let failing = true;
    const task = defineTask({
      name: unique('pay.charge'),
      queue,
      retry: { attempts: 1, backoff: 'fixed', baseMs: 1, maxMs: 1 },
      handler: async (p: { order: string }) => {
        if (failing) throw new Error(`gateway refused order ${p.order}`);
        return { charged: p.order };
      },
    });
    // Noise the filter must leave out: a completed job of another task in the same queue.
    const noise = defineTask({ name: unique('pay.noise'), queue, handler: () => 'ok' });
    const { server, offload } = serve({ offload: { tasks: [task, noise] } });
    const url = await server.listen({ port: 0 });
    const { job } = await offload.enqueue(task, { order: 'A-17' });
    const quiet = (await offload.enqueue(noise, {})).job;
    const discarded = nextEvent(offload, 'job:failed', (e) => e.job.id === job.id);
    await offload.start({ concurrency: 2, queues: [queue] });
    await discarded;
    await offload.jobs.waitFor(quiet.id);

    const { page, problems } = await openPage(browser!);
    await page.goto(`${url}/#/jobs`);
    await page.locator('input[name=state][value=discarded]').check();
    await page.locator('#filter-task').fill(task.name);
    await page.locator('#filter-apply').click();
    const filtered = page.locator(`table.jobs[data-query="state=discarded&task=${encodeURIComponent(task.name)}"]`);
    const row = filtered.locator(`tr[data-job-id="${job.id}"]`);
    await row.waitFor();
    assert.equal(await filtered.locator('tbody tr').count(), 1, 'only the discarded job of that task');
    assert.match(await row.innerText(), /gateway refused order A-17/);
    assert.match(page.url(), /#\/jobs\?state=discarded&task=/, 'the filter is in the URL');
    await screenshot(page, `${store.name}-jobs`);

    await row.locator('a').click();
    await page.locator('.error-message').waitFor();
    assert.equal(await page.locator('.error-message').innerText(), `gateway refused order A-17`);
    assert.equal(await page.locator('.job-head .badge').innerText(), 'discarded');
    await page.locator('.attempt details summary').click();
    assert.match(await page.locator('.stack').innerText(), /^Error: gateway refused order A-17\n\s+at /);
    await screenshot(page, `${store.name}-job-discarded`);

    failing = false;
    await page.locator('#job-retry').click();
    await page.getByRole('button', { name: 'Retry now' }).click();
    await until(page, () => document.querySelector('.job-head .badge')?.textContent === 'completed');
    assert.equal((await offload.jobs.get(job.id))?.state, 'completed');
    assert.match(await page.locator('pre[aria-label=Result]').innerText(), /"charged": "A-17"/);
    assert.match(await page.locator('.timeline').innerText(), /Completed/);
    await screenshot(page, `${store.name}-job-completed`);
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('a queue paused from the page stops claiming; resumed, its job runs', async () => {
    const held = unique('held');
    const free = unique('free');
    const task = defineTask({ name: unique('q.work'), handler: () => 'done' });
    const { server, offload } = serve({ offload: { tasks: [task] } });
    const url = await server.listen({ port: 0 });
    await offload.start({ concurrency: 2, queues: [held, free] });
    // Both queues exist for the page: one job each, run.
    await jobsWaitFor(offload, [(await offload.enqueue(task, {}, { queue: held })).job.id, (await offload.enqueue(task, {}, { queue: free })).job.id]);

    const { page, problems } = await openPage(browser!);
    await page.goto(`${url}/#/queues`);
    const row = page.locator(`tr[data-queue="${held}"]`);
    await row.waitFor();
    await row.getByRole('button', { name: `Pause queue ${held}` }).click();
    await row.locator('.badge.paused').waitFor();
    assert.equal((await offload.queues.get(held)).paused, true);

    // Stopped claiming: a job enqueued to the paused queue before one to the other queue is
    // still waiting once the later one has run (the same worker claims from both).
    const waiting = (await offload.enqueue(task, { n: 1 }, { queue: held })).job;
    const later = (await offload.enqueue(task, { n: 2 }, { queue: free })).job;
    await offload.jobs.waitFor(later.id);
    assert.equal((await offload.jobs.get(waiting.id))?.state, 'available');
    await page.waitForFunction((q: string) => document.querySelector(`tr[data-queue="${q}"] td:nth-child(3)`)?.textContent === '1', held, { polling: 'raf' });
    await screenshot(page, `${store.name}-queues-paused`);

    // The job says why it waits.
    await page.goto(`${url}/#/jobs/${waiting.id}`);
    await page.locator('#wait-reasons li[data-code="queue-paused"]').waitFor();
    assert.match(await page.locator('#wait-reasons').innerText(), new RegExp(`Queue ${held.replace('.', '\\.')} is paused`));
    await screenshot(page, `${store.name}-job-waiting`);

    await page.goto(`${url}/#/queues`);
    await row.getByRole('button', { name: `Resume queue ${held}` }).click();
    await offload.jobs.waitFor(waiting.id);
    assert.equal((await offload.jobs.get(waiting.id))?.state, 'completed');
    await row.locator('.badge.active').waitFor();
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('every discarded job of a task is retried at once, after a confirmation, with progress', async () => {
    const queue = unique('bulk');
    let failing = true;
    const task = defineTask({
      name: unique('bulk.task'),
      queue,
      retry: { attempts: 1, backoff: 'fixed', baseMs: 1, maxMs: 1 },
      handler: async () => {
        if (failing) throw new Error('not yet');
        return 'ok';
      },
    });
    const { server, offload } = serve({ offload: { tasks: [task] } });
    const url = await server.listen({ port: 0 });
    const ids = await Promise.all(Array.from({ length: 6 }, async (_, n) => (await offload.enqueue(task, { n })).job.id));
    const failures = Promise.all(ids.map((id) => nextEvent(offload, 'job:failed', (e) => e.job.id === id)));
    await offload.start({ concurrency: 3, queues: [queue] });
    await failures;

    const { page, problems } = await openPage(browser!);
    await page.goto(`${url}/#/jobs?state=discarded&queue=${queue}`);
    await page.locator(`table.jobs[data-query="state=discarded&queue=${encodeURIComponent(queue)}"] tbody tr`).first().waitFor();
    failing = false;
    await page.locator('#bulk-retry').click();
    const dialog = page.getByRole('dialog');
    assert.match(await dialog.innerText(), new RegExp(`Retry every job in state discarded, in queue ${queue.replace('.', '\\.')}\\?`));
    assert.match(await dialog.innerText(), /6 jobs match and can be retried/);
    await dialog.getByRole('button', { name: 'Retry 6 jobs' }).click();
    await page.locator('#bulk-progress:has-text("Done")').waitFor();
    assert.equal(await page.locator('#bulk-progress span').innerText(), 'Done: 6 retried');
    await screenshot(page, `${store.name}-jobs-bulk-retried`);
    await jobsWaitFor(offload, ids);
    for (const id of ids) assert.equal((await offload.jobs.get(id))?.state, 'completed');
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('the search box finds jobs by idempotency key across tasks, and by id; a redacted payload path never reaches the page', async () => {
    const a = defineTask({ name: unique('key.a'), handler: () => null });
    const b = defineTask({ name: unique('key.b'), handler: () => null });
    const { server, offload } = serve({ offload: { tasks: [a, b] }, http: { redact: ['password'] } });
    const url = await server.listen({ port: 0 });
    const key = unique('order-77');
    const secret = 'hunter2-browser-9f3a';
    const ja = (await offload.enqueue(a, { password: secret, user: 'ada' }, { idempotencyKey: key, delayMs: 600_000 })).job;
    const jb = (await offload.enqueue(b, { n: 1 }, { idempotencyKey: key, delayMs: 600_000 })).job;
    const other = (await offload.enqueue(a, { n: 2 }, { delayMs: 600_000 })).job;

    const { page, problems } = await openPage(browser!);
    const bodies: string[] = [];
    page.on('response', (res) => void res.text().then((t) => bodies.push(t), () => {}));
    await page.goto(`${url}/#/jobs`);
    await page.locator('#job-search').fill(key);
    await page.keyboard.press('Enter');
    await page.locator('#filter-key').waitFor();
    await page.locator(`tr[data-job-id="${ja.id}"]`).waitFor();
    const rows = await Promise.all((await page.locator('table.jobs tbody tr').all()).map((tr) => tr.getAttribute('data-job-id')));
    assert.deepEqual(rows, [jb.id, ja.id], 'exactly the two jobs with the key, of both tasks');
    await page.locator('#job-search').fill(other.id);
    await page.keyboard.press('Enter');
    await page.locator('h1:has-text("Job #' + other.id + '")').waitFor();
    await page.goto(`${url}/#/jobs/${ja.id}`);
    await page.locator('pre[aria-label=Payload]').waitFor();
    assert.match(await page.locator('pre[aria-label=Payload]').innerText(), /\[redacted\]/);
    await screenshot(page, `${store.name}-job-redacted`);
    assert.ok(!(await page.content()).includes(secret), 'the secret is not in the page');
    await page.close();
    assert.ok(bodies.length > 0);
    assert.ok(bodies.every((t) => !t.includes(secret)), 'nor in any response the page received');
    assert.deepEqual(problems, []);
  });

  it('the workers page lists every registered process: this server\'s running a job, another\'s, a stale one; a stopped one leaves', async () => {
    const queue = unique('w');
    const theirs = unique('w-theirs');
    const release = deferred();
    const task = defineTask({ name: unique('w.hold'), queue, handler: () => release.promise });
    const { server, offload } = serve({ offload: { tasks: [task], heartbeatMs: 200 } });
    const other = client({ tasks: [task], heartbeatMs: 200, loop: false });
    const url = await server.listen({ port: 0 });
    await offload.start({ concurrency: 3, queues: [queue] });
    await other.start({ concurrency: 5, queues: [theirs] });
    // A process that stopped beating a minute ago (killed): its row is left, stale.
    const ghost = `ghost-${unique('host')}:4242:dead00`;
    const d = await offload.ready();
    await d.workerHeartbeat({
      worker: { id: ghost, host: ghost.split(':')[0]!, pid: 4242, version: '0.0.9', queues: ['old'], concurrency: 8, running: 2, heartbeatMs: 1000, threads: null, loop: null },
    });
    await d.testAgeWorker({ id: ghost, ms: 60_000 });
    const started = nextEvent(offload, 'job:started');
    const { job } = await offload.enqueue(task, {});
    await started;

    const { page, problems } = await openPage(browser!);
    await page.goto(`${url}/#/workers`);
    const mine = page.locator(`tr[data-worker="${offload.workerId ?? ''}"]`);
    const their = page.locator(`tr[data-worker="${other.workerId ?? ''}"]`);
    const dead = page.locator(`tr[data-worker="${ghost}"]`);
    // The next heartbeat after the start reports the running job.
    await mine.locator('td:has-text("1 / 3")').waitFor();
    // Which row is this server's comes from the stats stream, which may report the start a second later.
    await mine.locator('.badge.active:has-text("this server")').waitFor();
    assert.match(await mine.innerText(), new RegExp(`\\b${process.pid}\\b`));
    assert.match(await mine.innerText(), new RegExp(queue.replace('.', '\\.')));
    assert.match(await mine.innerText(), /p99 \d/, 'its loop delay');
    await their.locator('td:has-text("0 / 5")').waitFor();
    assert.doesNotMatch(await their.innerText(), /this server/);
    assert.match(await their.innerText(), /not measured/, 'its loop monitor is off');
    await dead.locator('.badge.stale').waitFor();
    assert.equal(await dead.getAttribute('class'), 'stale');
    assert.match(await dead.innerText(), /1 min \d+ s ago|1 min ago/);
    assert.equal(await mine.locator('.badge.stale').count(), 0, 'a live worker is not stale');
    await page.locator('#registry-summary:has-text("stale")').waitFor();
    await page.locator(`#self-worker dd:has-text("${offload.workerId ?? 'none'}")`).waitFor();
    await page.locator('#self-worker dd:has-text("1 of 3 slots")').waitFor();
    await screenshot(page, `${store.name}-workers`);

    // A graceful stop removes the row; the page drops it at its next read.
    await other.stop();
    await their.waitFor({ state: 'detached' });
    await d.workerRemove({ id: ghost });
    await dead.waitFor({ state: 'detached' });
    release.resolve();
    await offload.jobs.waitFor(job.id);
    assert.deepEqual(problems, []);
    await page.close();
  });
});

dashboardSuiteOn([sqliteTestStore], 'dashboard in Chromium, page only (one store: nothing here reaches the store beyond reading what a job holds)', ({ serve, unique, store }) => {
  const servers: Server[] = [];
  after(async () => {
    for (const s of servers) s.closeAllConnections();
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  });

  it('a <script> in a payload, an error, a progress value, a result, an idempotency key or the URL renders as inert text', async () => {
    // Task and queue names cannot hold markup (names match ^[A-Za-z0-9][A-Za-z0-9._:-]*$); every
    // free-text field a job carries is tried instead, and the page's own filter echo.
    const queue = unique('xss');
    const task = defineTask({
      name: unique('xss.task'),
      queue,
      retry: { attempts: 2, backoff: 'fixed', baseMs: 600_000, maxMs: 600_000 },
      handler: async (p: { html: string }, ctx) => {
        await ctx.progress({ note: p.html });
        throw new Error(`failed on ${p.html}`);
      },
    });
    const { server, offload } = serve({ offload: { tasks: [task] } });
    const url = await server.listen({ port: 0 });
    const { job } = await offload.enqueue(task, { html: INJECTED }, { idempotencyKey: `key ${INJECTED}` });
    const failed = nextEvent(offload, 'job:failed', (e) => e.job.id === job.id);
    await offload.start({ concurrency: 1, queues: [queue] });
    await failed;
    await offload.jobs.cancel(job.id, `reason ${INJECTED}`);

    const { page, problems } = await openPage(browser!);
    await page.goto(`${url}/#/jobs/${job.id}`);
    await page.locator('.error-message').waitFor();
    assert.equal(await page.locator('.error-message').innerText(), `failed on ${INJECTED}`);
    assert.ok((await page.locator('pre[aria-label=Payload]').innerText()).includes(JSON.stringify(INJECTED).slice(1, -1)));
    assert.ok((await page.locator('pre[aria-label=Progress]').innerText()).includes('window.pwned'));
    assert.equal(await page.locator('#job-cancel-reason').innerText(), `reason ${INJECTED}`);
    assert.ok((await page.locator('.facts').innerText()).includes(`key ${INJECTED}`));
    assert.ok((await page.locator('.timeline').innerText()).includes(`failed on ${INJECTED}`));
    await screenshot(page, `${store.name}-job-injected`);

    await page.goto(`${url}/#/jobs?queue=${queue}`);
    await page.locator(`tr[data-job-id="${job.id}"]`).waitFor();
    assert.ok((await page.locator(`tr[data-job-id="${job.id}"] .error-cell`).innerText()).includes(INJECTED));
    await page.goto(`${url}/#/jobs?task=${encodeURIComponent(INJECTED)}`);
    await page.locator('.empty').waitFor();
    assert.ok((await page.locator('.empty').innerText()).includes(INJECTED), 'the filter is echoed as text');
    await page.goto(`${url}/#/${encodeURIComponent(INJECTED)}`);
    await page.getByRole('heading', { name: 'No such page' }).waitFor();

    // Nothing ran and nothing was parsed as markup: no injected element exists anywhere.
    assert.equal(await page.evaluate(() => window.pwned), undefined);
    assert.equal(await page.locator('#app img, #app svg[onload], #app script').count(), 0);
    assert.deepEqual(problems, [], 'no CSP violation either: the markup never reached the parser');
    await page.close();
  });

  it('actions without the CSRF token are refused: a request from the page without it, and a form posted from another page', async () => {
    const queue = unique('csrf');
    const task = defineTask({ name: unique('csrf.task'), queue, handler: () => 'ok' });
    const { server, offload } = serve({ offload: { tasks: [task] }, http: { tokens: TOKENS } });
    const url = await server.listen({ port: 0 });
    const { job } = await offload.enqueue(task, {}, { delayMs: 600_000 });
    const { page, problems } = await openPage(browser!);
    await page.goto(`${url}/login`);
    await page.locator('#token').fill(OPS.secret);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.locator('#session-user').waitFor();

    // A direct request with the session cookie (the browser sends it) but without the token.
    const direct = await page.evaluate(async (id) => {
      const res = await fetch(`/dashboard/api/v1/jobs/${id}/cancel`, { method: 'POST' });
      return { status: res.status, body: (await res.json()) as { code: string; detail: string } };
    }, job.id);
    assert.equal(direct.status, 403);
    assert.equal(direct.body.code, 'OFFLOAD_HTTP_FORBIDDEN');
    assert.match(direct.body.detail, /CSRF token/);

    // Another page on the same host (another port: same site, so the SameSite cookie goes along)
    // posting a form at the dashboard. The token is what stops it.
    const evil = createServer((_req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end(`<form method="post" action="${url}/dashboard/api/v1/jobs/${job.id}/cancel"><input name="reason" value="forged"></form><script>document.forms[0].submit()</script>`);
    });
    servers.push(evil);
    await new Promise<void>((r) => evil.listen(0, '127.0.0.1', () => r()));
    const evilPort = (evil.address() as { port: number }).port;
    const answer = page.waitForResponse((r) => r.url().endsWith(`/dashboard/api/v1/jobs/${job.id}/cancel`));
    await page.goto(`http://127.0.0.1:${evilPort}/`);
    const res = await answer;
    assert.equal(res.status(), 403);
    assert.match(await res.text(), /another origin|CSRF token/);
    assert.equal((await offload.jobs.get(job.id))?.state, 'scheduled', 'neither request cancelled the job');

    // With the token, from the page, the same action goes through.
    await page.goto(`${url}/#/jobs/${job.id}`);
    await page.locator('#job-cancel').click();
    await page.getByRole('button', { name: 'Cancel the job' }).click();
    await until(page, () => document.querySelector('.job-head .badge')?.textContent === 'cancelled');
    assert.equal((await offload.jobs.get(job.id))?.cancelReason, 'cancelled from the dashboard');
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('a bad token is refused at the login; a good one opens the dashboard; logging out ends it', async () => {
    const { server } = serve({ http: { tokens: TOKENS } });
    const url = await server.listen({ port: 0 });
    const { page, problems } = await openPage(browser!);
    await page.goto(`${url}/`);
    assert.equal(new URL(page.url()).pathname, '/login', 'sent to the login form');
    await screenshot(page, `${store.name}-login`);

    await page.locator('#token').fill('this-is-not-a-valid-token');
    const [refused] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/login') && r.request().method() === 'POST'), page.getByRole('button', { name: 'Log in' }).click()]);
    assert.equal(refused.status(), 401);
    await page.locator('#login-error').waitFor();
    assert.equal(await page.locator('#login-error').innerText(), 'That API token is not valid.');
    assert.equal((await browser!.context.cookies()).some((c) => c.name === 'offload_session'), false);
    await screenshot(page, `${store.name}-login-refused`);

    await page.locator('#token').fill(OPS.secret);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.locator('#session-user').waitFor();
    assert.equal(await page.locator('#session-user').innerText(), 'ops');
    const session = (await browser!.context.cookies()).find((c) => c.name === 'offload_session');
    assert.equal(session?.httpOnly, true);
    assert.equal(session?.sameSite, 'Strict');
    assert.equal(await page.evaluate(() => document.cookie), '', 'the page\'s scripts cannot read the session');

    await page.locator('#logout').click();
    await page.waitForURL(`${url}/login`);
    await page.goto(`${url}/`);
    assert.equal(new URL(page.url()).pathname, '/login', 'logged out: the page sends to the login again');
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('keyboard: g then a letter goes to a page, / to the job search; themes: system, light, dark, kept across loads', async () => {
    const { server } = serve();
    const url = await server.listen({ port: 0 });
    const { page, problems } = await openPage(browser!);
    await page.goto(`${url}/`);
    await page.locator('#nav-overview[aria-current=page]').waitFor();
    await page.keyboard.press('g');
    await page.keyboard.press('q');
    await page.locator('#nav-queues[aria-current=page]').waitFor();
    await page.getByRole('heading', { name: 'Queues', level: 1 }).waitFor();
    await page.keyboard.press('/');
    await until(page, () => document.activeElement?.id === 'job-search');
    // Any text is an id or a key now; an empty search is the mistake the box explains.
    await page.keyboard.press('Enter');
    await page.locator('#job-search-error').waitFor();
    await page.locator('#job-search').fill('');
    await page.keyboard.press('Escape');
    await page.locator('#nav-workers').focus();
    await page.keyboard.press('Enter');
    await page.locator('#nav-workers[aria-current=page]').waitFor();
    // Tab from the top of a fresh load reaches the skip link first, which moves focus to the content.
    await page.reload();
    await page.locator('#nav-workers[aria-current=page]').waitFor();
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content');
    await page.keyboard.press('Enter');
    await until(page, () => document.activeElement?.id === 'main');

    assert.equal(await page.evaluate(() => document.documentElement.dataset['theme']), 'light', 'the system scheme (light here)');
    await page.locator('#theme-toggle').click();
    await page.locator('#theme-toggle').click();
    assert.equal(await page.evaluate(() => document.documentElement.dataset['theme']), 'dark');
    await page.goto(`${url}/`);
    await page.locator('#chart-throughput canvas').waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.dataset['theme']), 'dark', 'kept across loads');
    await screenshot(page, `${store.name}-overview-dark`);
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.locator('#theme-toggle').click();
    assert.equal(await page.evaluate(() => document.documentElement.dataset['themeChoice']), 'system');
    assert.equal(await page.evaluate(() => document.documentElement.dataset['theme']), 'dark', 'system, now dark');
    await page.emulateMedia({ colorScheme: 'light' });
    await until(page, () => document.documentElement.dataset['theme'] === 'light');
    assert.deepEqual(problems, []);
    await page.close();
  });
});

dashboardSuiteOn([sqliteTestStore], 'dashboard in Chromium, no worker anywhere (a store of its own: the others run workers; the page and the empty list are the same on both stores)', ({ serve, store }) => {
  it('the workers page teaches how to start a worker when none is registered', async () => {
    const { server } = serve();
    const url = await server.listen({ port: 0 });
    const { page, problems } = await openPage(browser!);
    await page.goto(`${url}/#/workers`);
    const empty = page.getByRole('region', { name: 'No worker process is running' });
    await empty.waitFor();
    assert.match(await empty.innerText(), /offload worker --tasks/);
    assert.match(await empty.innerText(), /offload\.start\(\{ concurrency: 10 \}\)/);
    assert.match(await page.locator('#self-worker').innerText(), /runs no workers/);
    await screenshot(page, `${store.name}-workers-empty`);
    assert.deepEqual(problems, []);
    await page.close();
  });
});
