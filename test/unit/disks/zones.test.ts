import { strict as assert } from 'node:assert';
import {
  lastSegment,
  mapPlacement,
  regionOfZone,
  resourcePath,
} from '../../../shared/disks/zones.js';

describe('zones and placement', () => {
  it('finds the region of a zone', () => {
    assert.equal(regionOfZone('us-central1-a'), 'us-central1');
    assert.equal(regionOfZone('northamerica-northeast1-b'), 'northamerica-northeast1');
    assert.throws(() => regionOfZone('nowhere'), /not a Compute Engine zone/);
  });

  it('reads names and paths out of API URLs', () => {
    const url = 'https://www.googleapis.com/compute/v1/projects/p/zones/europe-west1-b/disks/d';
    assert.equal(lastSegment(url), 'd');
    assert.equal(resourcePath(url), 'projects/p/zones/europe-west1-b/disks/d');
  });

  it('maps a zonal disk to its target zone, and leaves unmapped zones alone', () => {
    assert.deepEqual(
      mapPlacement({ zone: 'us-central1-a' }, { 'us-central1-a': 'europe-west1-b' }),
      {
        zone: 'europe-west1-b',
      },
    );
    assert.deepEqual(
      mapPlacement({ zone: 'us-central1-c' }, { 'us-central1-a': 'europe-west1-b' }),
      {
        zone: 'us-central1-c',
      },
    );
  });

  it('maps both replica zones of a regional disk and derives the new region', () => {
    const placement = mapPlacement(
      { region: 'us-central1', replicaZones: ['us-central1-a', 'us-central1-b'] },
      { 'us-central1-a': 'europe-west4-a', 'us-central1-b': 'europe-west4-c' },
    );
    assert.deepEqual(placement, {
      region: 'europe-west4',
      replicaZones: ['europe-west4-a', 'europe-west4-c'],
    });
  });

  it('refuses a mapping that splits a regional disk across regions, or a regional disk without two zones', () => {
    assert.throws(
      () =>
        mapPlacement(
          { region: 'us-central1', replicaZones: ['us-central1-a', 'us-central1-b'] },
          { 'us-central1-a': 'europe-west4-a' },
        ),
      /splits replica zones across regions/,
    );
    assert.throws(() => mapPlacement({ region: 'us-central1' }, {}), /needs two replica zones/);
  });

  describe('into a target cluster in another region (a standby)', () => {
    const standby = ['europe-west4-a', 'europe-west4-b', 'europe-west4-c'];

    it('puts a zonal disk in the target zone with the same letter, else the first', () => {
      assert.deepEqual(mapPlacement({ zone: 'us-central1-b' }, {}, standby), {
        zone: 'europe-west4-b',
      });
      assert.deepEqual(mapPlacement({ zone: 'us-central1-f' }, {}, standby), {
        zone: 'europe-west4-a',
      });
    });

    it('keeps a zone the target runs in, and lets an explicit mapping win', () => {
      assert.deepEqual(mapPlacement({ zone: 'europe-west4-c' }, {}, standby), {
        zone: 'europe-west4-c',
      });
      assert.deepEqual(
        mapPlacement({ zone: 'us-central1-b' }, { 'us-central1-b': 'europe-west4-c' }, standby),
        { zone: 'europe-west4-c' },
      );
    });

    it('keeps a regional disk regional, in two distinct zones of the target region', () => {
      assert.deepEqual(
        mapPlacement(
          { region: 'us-central1', replicaZones: ['us-central1-a', 'us-central1-c'] },
          {},
          standby,
        ),
        { region: 'europe-west4', replicaZones: ['europe-west4-a', 'europe-west4-c'] },
      );
      assert.deepEqual(
        mapPlacement(
          { region: 'us-central1', replicaZones: ['us-central1-e', 'us-central1-f'] },
          {},
          standby,
        ),
        { region: 'europe-west4', replicaZones: ['europe-west4-a', 'europe-west4-b'] },
      );
    });

    it('refuses a regional disk into a single-zone target, asking for a mapping', () => {
      assert.throws(
        () =>
          mapPlacement(
            { region: 'us-central1', replicaZones: ['us-central1-a', 'us-central1-b'] },
            {},
            ['europe-west4-a'],
          ),
        /give a zone mapping/,
      );
    });
  });
});
