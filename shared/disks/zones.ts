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

/**
 * Applies a restore's zone mapping. Zones absent from the mapping stay as
 * they were. A regional disk's replica zones are mapped one by one and must
 * land in one region, as Compute Engine requires.
 */
export function mapPlacement(
  source: { zone?: string; region?: string; replicaZones?: string[] },
  zoneMapping: Record<string, string>,
): DiskPlacement {
  const map = (zone: string): string => zoneMapping[zone] ?? zone;
  if (source.zone) return { zone: map(source.zone) };
  const replicaZones = (source.replicaZones ?? []).map(map);
  if (replicaZones.length !== 2) {
    throw new PermanentError(
      `regional disk in ${source.region ?? '(no region)'} needs two replica zones, found ${replicaZones.length}`,
    );
  }
  const regions = new Set(replicaZones.map(regionOfZone));
  if (regions.size !== 1) {
    throw new PermanentError(
      `zone mapping splits replica zones across regions: ${replicaZones.join(', ')}`,
    );
  }
  return { region: [...regions][0] ?? '', replicaZones };
}
