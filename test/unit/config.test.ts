import { strict as assert } from 'node:assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../shared/config/config.js';

describe('configuration', () => {
  it('reads the environment and fills defaults', () => {
    const config = loadConfig({ LIFEBOAT_STORE: 'gs://acme-backups/lifeboat' });
    assert.equal(config.store, 'gs://acme-backups/lifeboat');
    assert.equal(config.topicPrefix, 'lifeboat-');
    assert.equal(config.logLevel, 'info');
  });

  it('names the missing variable in one line', () => {
    assert.throws(
      () => loadConfig({}),
      /^ValidationError: Invalid configuration: LIFEBOAT_STORE \(store\) is required$/m,
    );
    assert.throws(
      () => loadConfig({}),
      (e: Error) => !e.message.includes('\n'),
    );
  });

  it('names the wrong variable', () => {
    assert.throws(
      () => loadConfig({ LIFEBOAT_STORE: 's3://nope', LIFEBOAT_LOG_LEVEL: 'loud' }),
      (e: Error) =>
        /LIFEBOAT_STORE \(store\) must match pattern/.test(e.message) &&
        /LIFEBOAT_LOG_LEVEL \(logLevel\) must be one of "trace"/.test(e.message),
    );
  });

  it('reads a YAML file, and the environment wins over it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lifeboat-config-'));
    const file = join(dir, 'lifeboat.yaml');
    writeFileSync(file, 'store: file:///var/backups\nlogLevel: debug\n');
    const config = loadConfig({ LIFEBOAT_CONFIG: file, LIFEBOAT_LOG_LEVEL: 'warn' });
    assert.equal(config.store, 'file:///var/backups');
    assert.equal(config.logLevel, 'warn');
  });

  it('rejects unknown keys in the file, naming the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lifeboat-config-'));
    const file = join(dir, 'lifeboat.yaml');
    writeFileSync(file, 'store: file:///x\nbucket: oops\n');
    assert.throws(
      () => loadConfig({ LIFEBOAT_CONFIG: file }),
      new RegExp(`${file}.*unknown property "bucket"`),
    );
  });
});
