import { strict as assert } from 'node:assert';
import { everyNamespaceSelected, volumeSelected } from '../../../shared/kube/filters.js';
import { BackupFilters } from '../../../shared/messages/common.js';
import { validate } from '../../../shared/validate.js';

const filters = (given: object): BackupFilters => validate(BackupFilters, given, 'filters');

describe('namespace selection', () => {
  it('takes every namespace only with all included and none excluded', () => {
    assert.equal(everyNamespaceSelected(filters({})), true);
    assert.equal(everyNamespaceSelected(filters({ includeNamespaces: ['shop'] })), false);
    assert.equal(everyNamespaceSelected(filters({ excludeNamespaces: ['kube-system'] })), false);
  });

  it('takes a claimed volume with its claim, an unclaimed one only with every namespace', () => {
    const shopOnly = filters({ includeNamespaces: ['shop'] });
    assert.equal(volumeSelected('shop', shopOnly), true);
    assert.equal(volumeSelected('blog', shopOnly), false);
    assert.equal(volumeSelected(undefined, shopOnly), false);
    assert.equal(volumeSelected(undefined, filters({})), true);
    const allButShop = filters({ excludeNamespaces: ['shop'] });
    assert.equal(volumeSelected('shop', allButShop), false);
    assert.equal(volumeSelected('blog', allButShop), true);
    assert.equal(volumeSelected(undefined, allButShop), false);
  });
});
