import { strict as assert } from 'node:assert';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Functions } from '../../../functions/registry.js';
import { firstStringField, type ApiCall } from '../../../local/api-recorder.js';
import {
  compareIam,
  describeDifferences,
  grantsOf,
  usesOf,
  type Grant,
  type Use,
} from '../../iam/iam-compare.js';
import { operationOf } from '../../iam/permissions.js';
import { loadInfra } from '../infra/infra-model.js';
import { infraDir, infraTools, type InfraTools } from '../infra/tools.js';

const call = (over: Partial<ApiCall>): ApiCall => ({
  fn: 'restore',
  api: 'storage',
  method: 'GET',
  path: '/',
  query: {},
  status: 200,
  ...over,
});
const needs = (c: ApiCall): string[] =>
  operationOf(c, 'lb-').needs.map((n) => `${n.scope} ${n.permission}`);

describe('IAM permission table (test/iam/permissions.ts)', function () {
  it('maps Cloud Storage calls, an upload replacing an object needing delete too', function () {
    const object = '/storage/v1/b/bkt/o/lifeboat%2Fbackups%2Fx%2Fcatalog.json';
    assert.deepEqual(needs(call({ path: '/storage/v1/b/bkt/o' })), ['bucket storage.objects.list']);
    assert.deepEqual(needs(call({ path: object })), ['bucket storage.objects.get']);
    assert.deepEqual(needs(call({ path: object, query: { alt: 'media' } })), [
      'bucket storage.objects.get',
    ]);
    assert.deepEqual(needs(call({ method: 'DELETE', path: object })), [
      'bucket storage.objects.delete',
    ]);
    assert.deepEqual(needs(call({ method: 'PATCH', path: object })), [
      'bucket storage.objects.update',
    ]);
    const upload = { method: 'POST', path: '/upload/storage/v1/b/bkt/o' };
    assert.deepEqual(needs(call({ ...upload, query: { name: 'a', ifGenerationMatch: '0' } })), [
      'bucket storage.objects.create',
    ]);
    assert.deepEqual(needs(call({ ...upload, query: { name: 'a' } })), [
      'bucket storage.objects.create',
      'bucket storage.objects.delete',
    ]);
  });

  it('maps Compute Engine calls by what their body asks for', function () {
    const p = '/compute/v1/projects/acme';
    const compute = (method: string, path: string, bodyFields?: string[]): string[] =>
      needs(
        call({
          api: 'compute',
          method,
          path: `${p}${path}`,
          ...(bodyFields ? { bodyFields } : {}),
        }),
      );
    assert.deepEqual(compute('POST', '/global/snapshots', ['labels', 'name', 'sourceDisk']), [
      'project compute.snapshots.create',
      'project compute.disks.createSnapshot',
      'project compute.snapshots.setLabels',
    ]);
    assert.deepEqual(compute('POST', '/regions/r/disks', ['labels', 'name', 'sourceSnapshot']), [
      'project compute.disks.create',
      'project compute.snapshots.useReadOnly',
      'project compute.disks.setLabels',
    ]);
    assert.deepEqual(compute('GET', '/regions/r/disks/d'), ['project compute.disks.get']);
    assert.deepEqual(compute('GET', '/regions/r'), ['project compute.regions.get']);
    assert.deepEqual(compute('GET', ''), ['project compute.projects.get']);
    assert.deepEqual(compute('POST', '/zones/z/operations/op/wait'), [
      'project compute.zoneOperations.get',
    ]);
    assert.deepEqual(compute('POST', '/global/operations/op/wait'), [
      'project compute.globalOperations.get',
    ]);
  });

  it('maps GKE, Cloud KMS and Pub/Sub calls; Publish is scoped to its topic', function () {
    const clusters = '/v1/projects/acme/locations/-/clusters';
    assert.deepEqual(needs(call({ api: 'container', path: clusters })), [
      'project container.clusters.list',
    ]);
    assert.deepEqual(needs(call({ api: 'container', path: `${clusters}/shop` })), [
      'project container.clusters.get',
    ]);
    const key = '/v1/projects/p/locations/l/keyRings/r/cryptoKeys/k';
    assert.deepEqual(needs(call({ api: 'kms', method: 'POST', path: `${key}:decrypt` })), [
      'key cloudkms.cryptoKeyVersions.useToDecrypt',
    ]);
    assert.deepEqual(needs(call({ api: 'kms', method: 'POST', path: `${key}%3Aencrypt` })), [
      'key cloudkms.cryptoKeyVersions.useToEncrypt',
    ]);
    const publish = {
      api: 'pubsub' as const,
      method: 'POST',
      path: '/google.pubsub.v1.Publisher/Publish',
    };
    assert.deepEqual(needs(call({ ...publish, topic: 'projects/p/topics/lb-restore' })), [
      'topic:restore pubsub.topics.publish',
    ]);
    assert.throws(
      () => needs(call({ ...publish, topic: 'projects/p/topics/other' })),
      /not a topic/,
    );
  });

  it('fails loudly on a call it does not know', function () {
    assert.throws(
      () => needs(call({ method: 'POST', path: '/storage/v1/b/bkt/o/x/compose' })),
      /does not map to IAM permissions/,
    );
    const { problems } = usesOf(
      [call({ method: 'POST', path: '/storage/v1/b/bkt/o/x/compose' })],
      'lb-',
    );
    assert.equal(problems.length, 1);
  });

  it('reads the topic of a PublishRequest from its gRPC frame', function () {
    const topic = 'projects/p/topics/lb-backup-parts';
    const message = Buffer.concat([Buffer.from([0x0a, topic.length]), Buffer.from(topic)]);
    const header = Buffer.alloc(5);
    header.writeUInt32BE(message.length + 10, 1);
    const frame = Buffer.concat([header, message, Buffer.alloc(10)]);
    assert.equal(firstStringField(frame), topic);
    assert.equal(firstStringField(frame.subarray(0, 8)), undefined, 'not enough bytes yet');
  });
});

/** Keys the functions with confined writes write, as Layout names them. */
const OWN_KEYS: Record<string, string[]> = {
  restore: ['restores/r/report.json', 'backups/c/b/leases/r.json'],
  emitCatalog: ['backups/c/b/announced.json'],
  drill: [
    'restores/drill-d1/report.json',
    'backups/c/b/leases/drill-d1.json',
    'backups/c/b/drills/d1.json',
    'drills/d1.json',
  ],
};

describe('IAM comparison (test/iam/iam-compare.ts)', function () {
  const grant = (over: Partial<Grant>): Grant => ({
    fn: 'retention',
    scope: 'project',
    permission: 'compute.snapshots.delete',
    via: 'iam.tf',
    binding: 'google_project_iam_member.function[retention]',
    predefined: false,
    ...over,
  });
  const use = (over: Partial<Use>): Use => ({
    fn: 'retention',
    scope: 'project',
    permission: 'compute.snapshots.delete',
    methods: ['compute.snapshots.delete'],
    calls: 1,
    keys: [],
    ...over,
  });

  it('reports a permission used and not granted, and one granted and never used', function () {
    const differences = compareIam(
      [use({}), use({ permission: 'compute.snapshots.get' })],
      [grant({}), grant({ permission: 'compute.snapshots.list' })],
      { functions: ['retention'] },
    );
    assert.deepEqual(
      differences.map((d) => `${d.kind}: ${d.permission}`),
      ['granted, never used: compute.snapshots.list', 'used, not granted: compute.snapshots.get'],
    );
    assert.match(describeDifferences(differences), /^retention:\n {2}granted, never used/);
  });

  it('counts a predefined role as used when any permission it grants is', function () {
    const kms = (permission: string): Grant =>
      grant({
        scope: 'key',
        permission,
        predefined: true,
        binding: 'google_kms_crypto_key_iam_member.function[retention]',
      });
    const grants = [
      kms('cloudkms.cryptoKeyVersions.useToDecrypt'),
      kms('cloudkms.cryptoKeyVersions.useToEncrypt'),
    ];
    const decrypt = use({ scope: 'key', permission: 'cloudkms.cryptoKeyVersions.useToDecrypt' });
    assert.deepEqual(compareIam([decrypt], grants, { functions: ['retention'] }), []);
    assert.equal(compareIam([], grants, { functions: ['retention'] }).length, 2);
  });

  it('holds writes granted under a condition to the keys the condition admits', function () {
    const conditional = grant({
      fn: 'emitCatalog',
      scope: 'bucket',
      permission: 'storage.objects.delete',
      condition: 'resource.name.endsWith("/announced.json")',
      store: { bucket: 'b', objectRoot: 'projects/_/buckets/b/objects/lifeboat/' },
    });
    const deleting = (...keys: string[]): Use =>
      use({ fn: 'emitCatalog', scope: 'bucket', permission: 'storage.objects.delete', keys });
    const options = { functions: ['emitCatalog'] };
    assert.deepEqual(
      compareIam([deleting('backups/c/b1/announced.json')], [conditional], options),
      [],
    );
    const outside = compareIam(
      [deleting('backups/c/b1/announced.json', 'backups/c/b1/catalog.json')],
      [conditional],
      options,
    );
    assert.equal(outside.length, 1);
    assert.equal(outside[0]?.kind, 'used, not granted');
    assert.match(outside[0]?.detail ?? '', /backups\/c\/b1\/catalog\.json, outside the condition/);
    const unused = compareIam([deleting('backups/c/b1/catalog.json')], [conditional], options);
    assert.deepEqual(
      unused.map((d) => d.kind),
      ['granted, never used', 'used, not granted'],
      'a conditional grant no used key falls under is unused',
    );
  });

  it('leaves out an excused grant', function () {
    const excused = [
      { fn: 'retention', scope: 'project' as const, permission: 'compute.snapshots.list' },
    ];
    assert.deepEqual(
      compareIam([use({})], [grant({}), grant({ permission: 'compute.snapshots.list' })], {
        functions: ['retention'],
        excused,
      }),
      [],
    );
  });

  describe('on infra/ and a modified copy of it', function () {
    let tools: InfraTools;
    const vars = { project: 'lifeboat-iam', kms_enabled: true };
    /** Exactly what infra/ grants, as uses: no difference by construction. */
    let asGranted: Use[];

    before(function () {
      this.timeout(30 * 60_000); // the first run builds OpenTofu
      tools = infraTools();
      const { grants, problems } = grantsOf(loadInfra(infraDir, tools, { vars }));
      assert.deepEqual(problems, []);
      asGranted = grants.map((g) => ({
        fn: g.fn,
        scope: g.scope,
        permission: g.permission,
        methods: ['(as granted)'],
        calls: 1,
        // For a conditional grant, keys its function writes there (registry.tf confined_object_writes).
        keys: g.condition ? (OWN_KEYS[g.fn] ?? []) : [],
      }));
    });

    it('reads every binding of every function account', function () {
      this.timeout(60_000);
      const { grants } = grantsOf(loadInfra(infraDir, tools, { vars }));
      for (const fn of Object.keys(Functions)) {
        assert.ok(
          grants.some((g) => g.fn === fn && g.scope.startsWith('topic:')) || fn === 'retention',
          `${fn} may publish`,
        );
      }
      assert.ok(
        grants.some((g) => g.scope === 'key'),
        'the KMS key bindings are read',
      );
      assert.ok(
        grants.some((g) => g.condition !== undefined),
        'conditional grants are read',
      );
    });

    it('fails when a permission is removed from registry.tf', function () {
      this.timeout(60_000);
      const copy = mkdtempSync(join(tmpdir(), 'lifeboat-iam-infra-'));
      try {
        cpSync(infraDir, copy, { recursive: true, filter: (src) => !src.includes('.terraform') });
        const registry = join(copy, 'registry.tf');
        const text = readFileSync(registry, 'utf8');
        const edited = text.replace(
          /(^ {4}restore = \{[\s\S]*?)\n\s*"compute\.disks\.create",/m,
          '$1',
        );
        assert.notEqual(edited, text, 'the edit changed nothing: update this test');
        writeFileSync(registry, edited);
        const { grants } = grantsOf(loadInfra(copy, tools, { vars, pathModule: infraDir }));
        const differences = compareIam(asGranted, grants, { functions: Object.keys(Functions) });
        assert.deepEqual(
          differences.map((d) => `${d.fn} ${d.kind}: ${d.permission} on the ${d.scope}`),
          ['restore used, not granted: compute.disks.create on the project'],
        );
      } finally {
        rmSync(copy, { recursive: true, force: true });
      }
    });
  });
});
