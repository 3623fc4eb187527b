import { strict as assert } from 'node:assert';
import { runDurability } from '../../../bench/durability-model.js';
import { unique } from '../../../local/settings.js';
import { kubeHttp } from '../../../local/kube-requests.js';

/**
 * The promise, tried at random: backups of a changing cluster under two
 * policies, sweeps on a controlled clock, injected store faults and reader
 * upgrades; after every step every catalog retention has not expired still
 * verifies. Seeded: LIFEBOAT_DURABILITY_SEED=N replays a run.
 */
describe('durability: no Completed backup is lost before its retention expires it', function () {
  this.timeout(900_000);

  it('holds over 200 random sequences of backups, sweeps and faults', async () => {
    const seed = Number(process.env['LIFEBOAT_DURABILITY_SEED'] ?? Date.now() % 1_000_000);
    process.stdout.write(
      `      durability seed ${seed} (replay: LIFEBOAT_DURABILITY_SEED=${seed})\n`,
    );
    const summary = await runDurability({
      seed,
      sequences: 200,
      restoreEvery: 10,
      tag: unique('d'),
      source: kubeHttp('source'),
      target: kubeHttp('target'),
    });
    process.stdout.write(`      ${JSON.stringify(summary)}\n`);
    assert.equal(summary.failure, undefined);
    assert.equal(summary.catalogs_lost, 0);
    assert.equal(summary.sequences, 200);
    // The run exercised what it claims to: expiry, pack collection, held sweeps, faults, restores.
    assert.ok(summary.expired > 0, 'some backups expired');
    assert.ok(summary.deleted_packs > 0, 'pack collection ran');
    assert.ok(summary.held_sweeps > 0, 'some sweeps were held by an unreadable catalog');
    assert.ok(summary.faults > 100, `faults injected: ${summary.faults}`);
    // Every 10th sequence restores a sample when it ends with a Completed backup holding objects.
    assert.ok(summary.restores >= 10, `restores: ${summary.restores}`);
  });
});
