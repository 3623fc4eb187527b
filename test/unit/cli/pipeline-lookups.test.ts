import { strict as assert } from 'node:assert';
import { storeIfGiven } from '../../../cli/connect.js';
import { UsageError } from '../../../cli/exit-codes.js';
import { sourceClusterFrom } from '../../../cli/restore-flags.js';

/** What a --pipeline command looks up only when its flags name it. */
describe('cli lookups that pipeline commands may go without', () => {
  const saved = process.env['LIFEBOAT_STORE'];
  afterEach(() => {
    if (saved === undefined) delete process.env['LIFEBOAT_STORE'];
    else process.env['LIFEBOAT_STORE'] = saved;
  });

  it('opens the store of --store or LIFEBOAT_STORE, and none when neither names one', () => {
    delete process.env['LIFEBOAT_STORE'];
    assert.equal(storeIfGiven(undefined), undefined);
    process.env['LIFEBOAT_STORE'] = '';
    assert.equal(storeIfGiven(undefined), undefined);
    assert.equal(storeIfGiven('file:///tmp/lifeboat-flag')?.url, 'file:///tmp/lifeboat-flag');
    process.env['LIFEBOAT_STORE'] = 'file:///tmp/lifeboat-env';
    assert.equal(storeIfGiven(undefined)?.url, 'file:///tmp/lifeboat-env');
    assert.throws(() => storeIfGiven('s3://bucket'), UsageError);
  });

  it('reads --source-cluster when given, and is undefined without it', () => {
    assert.equal(sourceClusterFrom({}), undefined);
    assert.deepEqual(sourceClusterFrom({ sourceCluster: 'prod-project/europe-west1/prod' }), {
      project: 'prod-project',
      location: 'europe-west1',
      name: 'prod',
    });
    assert.throws(
      () => sourceClusterFrom({ sourceCluster: 'prod' }),
      (error: unknown) =>
        error instanceof UsageError && /--source-cluster "prod"/.test(error.message),
    );
  });
});
