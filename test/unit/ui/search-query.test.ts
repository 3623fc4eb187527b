import { strict as assert } from 'node:assert';
import { HttpError } from '../../../shared/ui/http-error.js';
import { isEmptyQuery, matchesQuery, parseSearchQuery } from '../../../shared/ui/search-query.js';

describe('ui: the contents search (name and label terms)', () => {
  it('splits name parts and label equalities', () => {
    assert.deepEqual(parseSearchQuery('  Web  app=web tier==front example.com/team=a '), {
      names: ['web'],
      labels: [
        { key: 'app', value: 'web' },
        { key: 'tier', value: 'front' },
        { key: 'example.com/team', value: 'a' },
      ],
    });
    assert.ok(isEmptyQuery(parseSearchQuery('')));
    assert.ok(isEmptyQuery(parseSearchQuery(null)));
  });

  it('matches every term: a name part (any case) and each label', () => {
    const q = parseSearchQuery('web app=web');
    assert.ok(matchesQuery(q, { name: 'my-Web-1', labels: { app: 'web', x: 'y' } }));
    assert.ok(!matchesQuery(q, { name: 'my-web-1', labels: { app: 'db' } }));
    assert.ok(!matchesQuery(q, { name: 'db', labels: { app: 'web' } }));
    assert.ok(!matchesQuery(q, { name: 'web', labels: undefined }));
    assert.ok(matchesQuery(parseSearchQuery('app='), { name: 'a', labels: { app: '' } }));
  });

  it('refuses a malformed label term with a 400 naming it', () => {
    const cases: [string, string][] = [
      ['=web', '=web'],
      ['web app=we!b', 'app=we!b'],
      ['-app=web', '-app=web'],
    ];
    for (const [query, term] of cases) {
      assert.throws(
        () => parseSearchQuery(query),
        (e: unknown) =>
          e instanceof HttpError && e.status === 400 && e.message.includes(`"${term}"`),
        query,
      );
    }
  });
});
