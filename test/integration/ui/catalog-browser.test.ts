import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../../../local/chromium.js';
import { runBackup } from '../../../shared/backup/run-backup.js';
import { readCatalogs } from '../../../shared/catalog/catalog-io.js';
import type { Catalog } from '../../../shared/catalog/catalog-schema.js';
import { Layout } from '../../../shared/catalog/layout.js';
import type { Sealer } from '../../../shared/crypto/sealer.js';
import { resourcePath } from '../../../shared/kube/kube-http.js';
import type { KubeObject } from '../../../shared/kube/sanitize.js';
import type { ClusterRef } from '../../../shared/messages/common.js';
import { lockBackup } from '../../../shared/pipeline/locks.js';
import { runRestore } from '../../../shared/restore/run-restore.js';
import type { RestoreReport } from '../../../shared/restore/report.js';
import type { ObjectStore } from '../../../shared/store/object-store.js';
import { rpoStatus } from '../../../shared/ui/rpo.js';
import { startUiServer } from '../../../shared/ui/ui-server.js';
import {
  gcsStore,
  policy,
  restoreOptions,
  sealerFor,
  TARGET,
} from '../../../local/backup-fixture.js';
import { unique } from '../../../local/settings.js';
import { CLI } from '../../unit/cli/run-cli.js';
import { create, get, kubeHttp, R, waitFurnished } from '../../../local/kube-requests.js';

const SHOTS = join(process.cwd(), 'test-output', 'ui');
const SHOP: ClusterRef = { project: 'local', location: 'local', name: 'shop' };
const BILLING: ClusterRef = { project: 'local', location: 'local', name: 'billing' };

interface Server {
  url: string;
  close(): Promise<void>;
}

describe('catalog browser: the ui page in a real headless Chromium', function () {
  this.timeout(300_000);

  const source = kubeHttp('source');
  const ns = unique('ui');
  const secretValue = `pw-${unique('v')}-never-shown`;
  let store: ObjectStore;
  let sealer: Sealer;
  let keyFile: string;
  let catalogs: Map<string, Catalog[]>;
  let report: RestoreReport;
  let now: Date;
  let server: Server;
  let browser: Browser;
  let page: Page;

  const shopKey = Layout.clusterKey(SHOP);
  const billingKey = Layout.clusterKey(BILLING);
  const backupIds = { first: unique('b1'), second: unique('b2'), billing: [] as string[] };

  before(async () => {
    store = await gcsStore();
    const sealing = await sealerFor(store);
    sealer = sealing.sealer;
    keyFile = sealing.keyFile;
    await create(source, R.namespaces, { metadata: { name: ns } });
    // So that the shop's two backups differ by the test's changes alone.
    await waitFurnished(source, ns);
    await create(source, R.configmaps, {
      metadata: { name: 'settings', namespace: ns, labels: { app: 'web', tier: 'front' } },
      data: { colour: 'blue', size: 'large' },
    });
    await create(source, R.configmaps, {
      metadata: { name: 'unrelated', namespace: ns, labels: { app: 'db' } },
      data: { x: '1' },
    });
    await create(source, R.secrets, {
      metadata: { name: 'db-password', namespace: ns },
      type: 'Opaque',
      stringData: { password: secretValue },
    });
    const deps = { http: source, store, sealer, encryption: sealing.encryption };
    const run = (cluster: ClusterRef, backupId: string) =>
      runBackup(deps, {
        backupId,
        cluster,
        policy: policy({ filters: { includeNamespaces: [ns] } }),
      });
    for (const id of [unique('c1'), unique('c2')]) {
      backupIds.billing.push(id);
      await run(BILLING, id);
    }
    await run(SHOP, backupIds.first);
    // Between the shop's two backups: one field changes, one object is added.
    const settings = (await get(source, R.configmaps, ns, 'settings')) as KubeObject;
    await source.request('PUT', resourcePath(R.configmaps, ns, 'settings'), {
      body: { ...settings, data: { colour: 'green', size: 'large' } },
    });
    await create(source, R.configmaps, {
      metadata: { name: 'feature-flags', namespace: ns },
      data: { beta: 'on' },
    });
    await run(SHOP, backupIds.second);
    report = await runRestore(
      { http: kubeHttp('target'), store, sealer },
      {
        restoreId: unique('r'),
        source: SHOP,
        backupId: backupIds.second,
        target: TARGET,
        options: restoreOptions({ includeNamespaces: [ns] }),
      },
    );
    // A locked backup, and a cluster seen deleted, as the cluster-events function leaves them.
    await lockBackup(store, SHOP, backupIds.first, 'kept for the incident review');
    await store.createIfAbsent(
      Layout.deletedMarker(BILLING),
      JSON.stringify({ deletedAt: new Date().toISOString(), operationKey: 'op-1' }),
    );
    catalogs = new Map();
    for (const cluster of [SHOP, BILLING]) {
      catalogs.set(Layout.clusterKey(cluster), (await readCatalogs(store, cluster)).catalogs);
    }
    now = new Date();
    server = await startUiServer({ store, sealer, now: () => now });
    // The browser is part of what is tested: without it the test fails, it is never skipped.
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    mkdirSync(SHOTS, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  const shot = (name: string, p: Page = page) =>
    p.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  const cell = (row: string, field: string) =>
    page.locator(`${row} [data-field="${field}"]`).first().innerText();

  it('lists both clusters with the numbers of their newest catalogs, and the RPO they have', async () => {
    await page.goto(server.url);
    assert.equal(await page.locator('h1').innerText(), 'Clusters');
    for (const key of [shopKey, billingKey]) {
      const all = catalogs.get(key) ?? [];
      const newest = all.at(-1);
      assert.ok(newest);
      const row = `tr[data-cluster="${key}"]`;
      assert.equal(await cell(row, 'phase'), newest.phase);
      assert.equal(await cell(row, 'objects'), String(newest.counts.objects));
      assert.equal(await cell(row, 'backups'), String(all.length));
      const overdue = rpoStatus(all, now.getTime()).overdue;
      assert.equal(
        (await page.locator(row).getAttribute('class'))?.includes('overdue'),
        overdue,
        `${key}: overdue as the RPO says`,
      );
    }
    assert.match(
      await page.locator(`tr[data-cluster="${billingKey}"]`).innerText(),
      /cluster deleted/,
    );
    assert.doesNotMatch(await page.locator(`tr[data-cluster="${shopKey}"]`).innerText(), /deleted/);
    // The shop's newest backup holds the ConfigMap added between its backups.
    const shop = catalogs.get(shopKey) ?? [];
    assert.equal((shop[1]?.counts.objects ?? 0) - (shop[0]?.counts.objects ?? 0), 1);
    await shot('clusters');
  });

  it('highlights a cluster as overdue once its last backup is older than its schedule allows', async () => {
    const later = await startUiServer({
      store,
      now: () => new Date(now.getTime() + 7 * 86_400_000),
    });
    try {
      const p = await browser.newPage();
      await p.goto(later.url);
      for (const key of [shopKey, billingKey]) {
        const row = p.locator(`tr[data-cluster="${key}"]`);
        assert.match((await row.getAttribute('class')) ?? '', /overdue/);
        assert.match(await row.innerText(), /overdue/);
      }
      await p.close();
    } finally {
      await later.close();
    }
  });

  it("shows a cluster's timeline newest first, with each catalog's numbers", async () => {
    await page.goto(server.url);
    await page.getByRole('link', { name: shopKey }).click();
    assert.equal(await page.locator('h1').innerText(), `Cluster ${shopKey}`);
    const expected = [...(catalogs.get(shopKey) ?? [])].reverse();
    const rows = page.locator('tr[data-backup]');
    assert.equal(await rows.count(), expected.length);
    for (const [i, c] of expected.entries()) {
      assert.equal(await rows.nth(i).getAttribute('data-backup'), c.backupId);
      const row = `tr[data-backup="${c.backupId}"]`;
      assert.equal(await cell(row, 'objects'), String(c.counts.objects));
      assert.equal(await cell(row, 'phase'), c.phase);
      assert.equal(await cell(row, 'warnings'), String(c.warnings.length));
      assert.equal(await cell(row, 'drill'), 'none');
      assert.equal(await cell(row, 'lock'), c.backupId === backupIds.first ? 'locked' : '');
    }
    await shot('timeline');
  });

  it('opens a backup, finds an object by name and by label, and opens its manifest', async () => {
    await page.goto(`${server.url}/clusters/${shopKey}`);
    await page.getByRole('link', { name: backupIds.second, exact: true }).click();
    assert.equal(await page.locator('h1').innerText(), `Backup ${backupIds.second}`);
    const search = page.getByRole('searchbox');
    await search.fill('settings');
    await search.press('Enter');
    await page.waitForURL(/q=settings/);
    assert.match(
      await page.locator('[data-field="matched"]').innerText(),
      /^1 of \d+ objects match/,
    );
    await shot('contents');
    await search.fill('app=db');
    await search.press('Enter');
    await page.waitForURL(/q=app%3Ddb/);
    assert.equal(await page.getByRole('link', { name: 'unrelated' }).count(), 1);
    assert.equal(await page.getByRole('link', { name: 'settings' }).count(), 0);

    await page.goto(`${server.url}/clusters/${shopKey}/backups/${backupIds.second}?q=settings`);
    await page.getByRole('link', { name: 'settings', exact: true }).click();
    assert.equal(await page.locator('h1').innerText(), `ConfigMap ${ns}/settings`);
    const manifest = await page.locator('[data-field="manifest"]').innerText();
    assert.match(manifest, /colour: green/);
    assert.match(manifest, /app: web/);
  });

  it("lists a Secret's keys and sizes but never its value", async () => {
    const url = `${server.url}/clusters/${shopKey}/backups/${backupIds.second}/objects?resource=secrets&namespace=${ns}&name=db-password`;
    const response = await page.goto(url);
    const body = (await response?.text()) ?? '';
    assert.match(body, /password/);
    assert.ok(!body.includes(secretValue), 'the value is not in the page');
    assert.ok(!body.includes(Buffer.from(secretValue).toString('base64')), 'nor its base64');
    const row = page.locator('tr', { has: page.locator('th', { hasText: 'password' }) });
    assert.equal(await row.locator('td').innerText(), String(Buffer.byteLength(secretValue)));

    const keyless = await startUiServer({ store });
    try {
      const p = await browser.newPage();
      await p.goto(url.replace(server.url, keyless.url));
      assert.match(
        await p.locator('[data-field="sealed"]').innerText(),
        /sealed: start the UI with --key-file to list its keys/,
      );
      await p.close();
    } finally {
      await keyless.close();
    }
  });

  it('shows what changed between two backups, down to the field', async () => {
    await page.goto(`${server.url}/clusters/${shopKey}`);
    await page.getByLabel('From (older)').selectOption(backupIds.first);
    await page.getByLabel('To (newer)').selectOption(backupIds.second);
    await page.getByRole('button', { name: 'Show what changed' }).click();
    await page.waitForURL(/\/diff\?from=/);
    const changed = page.locator(`section.changed[data-object="ConfigMap ${ns}/settings"]`);
    const row = changed.locator('tr', { has: page.locator('code', { hasText: '/data/colour' }) });
    assert.equal(await row.locator('[data-field="before"]').innerText(), 'blue');
    assert.equal(await row.locator('[data-field="after"]').innerText(), 'green');
    assert.match(await page.locator('[data-field="summary"]').innerText(), /^1 added, 0 removed/);
    assert.equal(
      await page.getByRole('link', { name: `ConfigMap ${ns}/feature-flags` }).count(),
      1,
    );
    await shot('diff');
  });

  it('shows the restore report with its skipped and failed objects and why', async () => {
    await page.goto(server.url);
    await page.getByRole('link', { name: 'Restores' }).click();
    await page.getByRole('link', { name: report.restoreId }).click();
    assert.equal(await page.locator('h1').innerText(), `Restore ${report.restoreId}`);
    const notable = report.outcomes.filter(
      (o) => o.outcome === 'failed' || o.outcome === 'skipped',
    );
    // Restore leaves kube-root-ca.crt to the target cluster: at least that one is skipped, with why.
    assert.ok(notable.some((o) => o.name === 'kube-root-ca.crt' && o.reason));
    const text = await page.locator('main').innerText();
    assert.match(text, new RegExp(`Failed and skipped objects \\(${notable.length}\\)`));
    for (const o of notable) {
      assert.ok(text.includes(o.name), `${o.name} listed`);
      if (o.reason) assert.ok(text.includes(o.reason), `the reason for ${o.name} shown`);
    }
    assert.match(
      await page.locator('[data-field="counts"]').innerText(),
      new RegExp(`${report.counts.restored} restored`),
    );
  });

  it('is usable by keyboard: Tab reaches the first link, visibly focused', async () => {
    await page.goto(server.url);
    await page.keyboard.press('Tab');
    // Expressions run in the page (this project compiles without the DOM's types).
    const focused = (await page.evaluate(`(() => {
      const el = document.activeElement;
      return { tag: el?.tagName, text: el?.textContent, outline: el && getComputedStyle(el).outlineStyle };
    })()`)) as { tag?: string; text?: string; outline?: string };
    assert.equal(focused.tag, 'A');
    assert.equal(focused.text, 'Lifeboat');
    assert.notEqual(focused.outline, 'none', 'the focused link has an outline');
  });

  it('fits a phone without scrolling sideways', async () => {
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 } });
    for (const path of [
      '/',
      `/clusters/${shopKey}`,
      `/clusters/${shopKey}/backups/${backupIds.second}`,
      `/clusters/${shopKey}/diff?from=${backupIds.first}&to=${backupIds.second}`,
    ]) {
      await phone.goto(`${server.url}${path}`);
      const width = (await phone.evaluate('document.scrollingElement.scrollWidth')) as number;
      assert.ok(width <= 390, `${path} is ${width}px wide at 390px`);
    }
    await phone.goto(`${server.url}/clusters/${shopKey}`);
    await shot('phone', phone);
    await phone.close();
  });

  it('follows a dark colour scheme', async () => {
    const background = () =>
      page.evaluate('getComputedStyle(document.body).backgroundColor') as Promise<string>;
    await page.emulateMedia({ colorScheme: 'light' });
    await page.goto(server.url);
    const light = await background();
    await page.emulateMedia({ colorScheme: 'dark' });
    const dark = await background();
    assert.notEqual(dark, light);
    await shot('dark');
    await page.emulateMedia({ colorScheme: 'light' });
  });

  it('runs as lifeboat ui: serves the store with its key file on 127.0.0.1 until Ctrl-C', async () => {
    const child = spawn(
      process.execPath,
      [CLI, 'ui', '--store', store.url, '--key-file', keyFile, '--port', '0'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = once(child, 'exit');
    try {
      const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
      const m = /^Lifeboat UI on (http:\/\/127\.0\.0\.1:\d+) \(read-only; Ctrl-C to stop\)$/.exec(
        line,
      );
      assert.ok(m?.[1], `first line: ${line}\n${stderr}`);
      const home = await fetch(m[1]);
      assert.equal(home.status, 200);
      assert.match(await home.text(), new RegExp(shopKey.replace(/\./g, '\\.')));
      const secret = await fetch(
        `${m[1]}/clusters/${shopKey}/backups/${backupIds.second}/objects?resource=secrets&namespace=${ns}&name=db-password`,
      );
      const text = await secret.text();
      assert.match(text, /<th scope="row">password<\/th>/, 'the key file opens the Secret');
      assert.ok(!text.includes(secretValue));
    } finally {
      child.kill('SIGINT');
    }
    const [code] = (await exited) as [number | null];
    assert.equal(code, 0, stderr);
  });

  it('answers only GET, and bad requests with a page saying what was wrong', async () => {
    const post = await fetch(server.url, { method: 'POST' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
    const missing = await fetch(`${server.url}/nowhere`);
    assert.equal(missing.status, 404);
    const bad = await fetch(`${server.url}/clusters/${shopKey}/backups/Not_An_Id`);
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /backup id &quot;Not_An_Id&quot; is not a backup id/);
    const noBackup = await fetch(`${server.url}/clusters/${shopKey}/backups/gone`);
    assert.equal(noBackup.status, 404);
    const badQuery = await fetch(
      `${server.url}/clusters/${shopKey}/backups/${backupIds.second}?q=%3Dweb`,
    );
    assert.equal(badQuery.status, 400);
  });
});
