import { PermanentError } from '../errors.js';

/**
 * Zones, regions and the URLs Compute Engine wraps them in. The API answers
 * with full URLs (`https://www.googleapis.com/compute/v1/projects/p/zones/z`),
 * accepts partial ones (`projects/p/zones/z`), and the catalog stores names.
 */

/** `us-central1-a` -> `us-central1`. */
export function regionOfZone(zone: string): string {
  const match = /^([a-z]+(?:-[a-z]+)*\d+)-[a-z0-9]+$/.exec(zone);
  if (!match?.[1]) throw new PermanentError(`"${zone}" is not a Compute Engine zone name`);
  return match[1];
}

/** The last path segment of a resource URL or path, or the text itself. */
export function lastSegment(urlOrName: string): string {
  const parts = urlOrName.split('/');
  return parts[parts.length - 1] ?? urlOrName;
}

/** `https://.../compute/v1/projects/p/zones/z/disks/d` -> `projects/p/zones/z/disks/d`. */
export function resourcePath(url: string): string {
  const at = url.indexOf('projects/');
  return at >= 0 ? url.slice(at) : url;
}

export const zonePath = (project: string, zone: string): string =>
  `projects/${project}/zones/${zone}`;

export const regionPath = (project: string, region: string): string =>
  `projects/${project}/regions/${region}`;

/** Where a restored disk goes: one zone, or a region and its two replica zones. */
export type DiskPlacement = { zone: string } | { region: string; replicaZones: string[] };

/** The zone's letter: `us-central1-b` -> `b`. */
const zoneLetter = (zone: string): string => zone.slice(zone.lastIndexOf('-') + 1);

/**
 * A target zone for a source zone the mapping does not name: the same zone
 * when the target cluster runs there, else the target zone with the same
 * letter, else the target's first zone.
 */
function intoZones(zone: string, targetZones: readonly string[]): string {
  if (targetZones.length === 0 || targetZones.includes(zone)) return zone;
  return targetZones.find((z) => zoneLetter(z) === zoneLetter(zone)) ?? targetZones[0] ?? zone;
}

/**
 * Applies a restore's zone mapping. Zones the mapping names go where it
 * says; others go into the target cluster's own zones when they are known
 * (a standby in another region), and stay as they were otherwise. A
 * regional disk stays regional: its two replica zones are mapped one by
 * one and must land in one region, as Compute Engine requires.
 */
export function mapPlacement(
  source: { zone?: string; region?: string; replicaZones?: string[] },
  zoneMapping: Record<string, string>,
  targetZones: readonly string[] = [],
): DiskPlacement {
  const map = (zone: string): string => zoneMapping[zone] ?? intoZones(zone, targetZones);
  if (source.zone) return { zone: map(source.zone) };
  let replicaZones = (source.replicaZones ?? []).map(map);
  if (replicaZones.length !== 2) {
    throw new PermanentError(
      `regional disk in ${source.region ?? '(no region)'} needs two replica zones, found ${replicaZones.length}`,
    );
  }
  if (replicaZones[0] === replicaZones[1]) {
    // Two source zones fell into one target zone: take two distinct zones of the target's region.
    const region = regionOfZone(replicaZones[0] ?? '');
    const distinct = [...new Set(targetZones.filter((z) => regionOfZone(z) === region))];
    if (distinct.length < 2) {
      throw new PermanentError(
        `regional disk in ${source.region ?? '(no region)'} needs two replica zones in the target, which runs in ${targetZones.join(', ') || replicaZones[0]}: give a zone mapping`,
      );
    }
    replicaZones = distinct.slice(0, 2);
  }
  const regions = new Set(replicaZones.map(regionOfZone));
  if (regions.size !== 1) {
    throw new PermanentError(
      `zone mapping splits replica zones across regions: ${replicaZones.join(', ')}`,
    );
  }
  return { region: [...regions][0] ?? '', replicaZones };
}
