import { strict as assert } from 'node:assert';
import { globMatch, matchesAny } from '../../shared/glob.js';
import { resourceSelected, selected } from '../../shared/kube/filters.js';
import { applyTransformations } from '../../shared/restore/transform.js';
import { clusterSelected } from '../../shared/clusters/cluster-selection.js';
import { BackupPolicy } from '../../shared/messages/common.js';
import { validate } from '../../shared/validate.js';
import type { ObjectRef } from '../../shared/catalog/pack.js';

/** The regular expression every glob used to become: the semantics to keep. */
function regexGlob(pattern: string, value: string): boolean {
  return new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  ).test(value);
}

const EVIL = '*a*a*a*a*a*a*a*a*a*a*b';
const AS = 'a'.repeat(60);

/** Mean milliseconds per call over `n` calls. */
function meanMs(n: number, call: () => unknown): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) call();
  return Number(process.hrtime.bigint() - start) / 1e6 / n;
}

describe('glob matching', () => {
  it('matches an 11-wildcard glob against 60 characters in under a millisecond', () => {
    assert.equal(globMatch(EVIL, AS), false);
    assert.equal(globMatch(EVIL, `${AS}b`), true);
    const ms = meanMs(100, () => globMatch(EVIL, AS));
    assert.ok(ms < 1, `${ms.toFixed(3)} ms per match`);
    // Thousands of characters stay polynomial too (a regex would never return).
    const long = meanMs(10, () => globMatch('*a'.repeat(30) + '*b', 'a'.repeat(2000)));
    assert.ok(long < 50, `${long.toFixed(3)} ms per match of a 2,000-character value`);
  });

  it('keeps the filters, transformation rules and cluster selection linear', function () {
    this.timeout(5000);
    const started = process.hrtime.bigint();
    assert.equal(selected(AS, [EVIL], []), false);
    const ref: ObjectRef = {
      group: '',
      version: 'v1',
      resource: 'configmaps',
      kind: 'ConfigMap',
      namespaced: true,
      namespace: 'ns',
      name: AS,
      digest: '',
    } as ObjectRef;
    assert.equal(resourceSelected({ ...ref, resource: AS }, [EVIL], []), false);
    const obj = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: AS, namespace: AS } };
    const rule = {
      resources: ['*'],
      namespaces: [EVIL],
      names: [EVIL],
      patch: [{ op: 'add', path: '/metadata/labels', value: { hit: 'yes' } }],
    };
    assert.deepEqual(
      applyTransformations([rule] as never, ref, obj as never).metadata,
      obj.metadata,
      'the rule must not apply',
    );
    const policy = validate(
      BackupPolicy,
      { name: 'nightly', projects: ['p'], clusterNames: [EVIL], locations: [EVIL] },
      'test policy',
    );
    assert.equal(
      clusterSelected(policy, { ref: { project: 'p', location: AS, name: AS }, labels: {} }),
      false,
    );
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    assert.ok(ms < 200, `${ms.toFixed(1)} ms for four evil globs`);
  });

  const table: [string, string, boolean][] = [
    ['*', '', true],
    ['*', 'anything', true],
    ['', '', true],
    ['', 'a', false],
    ['myapp', 'myapp', true],
    ['myapp', 'myapp2', false],
    ['myapp', 'xmyapp', false],
    ['my*', 'myapp', true],
    ['*app', 'myapp', true],
    ['*app', 'myapp-x', false],
    ['m*p', 'myapp', true],
    ['m*p', 'm', false],
    ['kube-*', 'kube-system', true],
    ['kube-*', 'Kube-system', false],
    ['prod-?', 'prod-1', true],
    ['prod-?', 'prod-', false],
    ['prod-?', 'prod-12', false],
    ['??', 'ab', true],
    ['a?c*', 'abcdef', true],
    ['*.apps', 'deployments.apps', true],
    ['*.apps', 'deploymentsxapps', false],
    ['a.b', 'axb', false],
    ['a+b', 'a+b', true],
    ['(x|y)', '(x|y)', true],
    ['(x|y)', 'x', false],
    ['[ab]', 'a', false],
    ['[ab]', '[ab]', true],
    ['^a$', '^a$', true],
    ['a\\*', 'a\\bc', true],
    ['**', 'x', true],
    ['*a*b*', 'xxaxxbxx', true],
    ['*a*b*', 'xxbxxaxx', false],
    ['*ab', 'aab', true],
    ['*aab', 'aaab', true],
    ['a*', 'a\nb', false],
    ['a?b', 'a\nb', false],
    ['a\n*', 'a\nb', true],
    ['europe-*', 'europe-west1', true],
    ['us-*', 'europe-west1', false],
  ];
  for (const [pattern, value, expected] of table) {
    it(`${JSON.stringify(pattern)} ${expected ? 'matches' : 'does not match'} ${JSON.stringify(value)}`, () => {
      assert.equal(globMatch(pattern, value), expected);
      assert.equal(regexGlob(pattern, value), expected, 'the semantics the regex had');
    });
  }

  it('agrees with the regex it replaces on 20,000 random short globs', () => {
    let seed = 12;
    const next = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const alphabet = ['a', 'b', '.', '\n'];
    const pick = (chars: string[], len: number) =>
      Array.from({ length: len }, () => chars[next(chars.length)]).join('');
    let matched = 0;
    for (let i = 0; i < 20_000; i++) {
      const pattern = pick([...alphabet, '*', '?'], next(7));
      const value = pick(alphabet, next(8));
      const expected = regexGlob(pattern, value);
      if (expected) matched++;
      assert.equal(globMatch(pattern, value), expected, `${JSON.stringify([pattern, value])}`);
    }
    assert.ok(matched > 1000, `only ${matched} matches: the comparison says too little`);
  });

  it('matchesAny is any of the globs', () => {
    assert.equal(matchesAny([], 'x'), false);
    assert.equal(matchesAny(['y', 'x*'], 'xz'), true);
    assert.equal(matchesAny(['y', 'z*'], 'xz'), false);
  });
});
