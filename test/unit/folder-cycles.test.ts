import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));

/** Folders that hold no source of ours. */
const SKIPPED = new Set(['node_modules', 'dist', 'coverage']);

/**
 * The room a source file lives in: a top-level folder (functions, test,
 * demo, and any added later), or one folder under shared/. Files directly
 * under shared/ form the room "shared".
 */
function roomOf(path: string): string {
  const parts = path.split('/');
  if (parts.length === 1) return '.';
  if (parts[0] === 'shared' && parts.length > 2) return `shared/${parts[1]}`;
  return parts[0] as string;
}

function sourceFiles(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.') || SKIPPED.has(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...sourceFiles(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) found.push(path);
  }
  return found;
}

/** Relative module specifiers of static imports, re-exports and dynamic imports. */
function relativeImports(source: string): string[] {
  const specifiers: string[] = [];
  const patterns = [
    /\b(?:import|export)\s[^'";]*?\bfrom\s*['"](\.{1,2}\/[^'"]+)['"]/g,
    /\bimport\s*['"](\.{1,2}\/[^'"]+)['"]/g,
    /\bimport\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g,
  ];
  for (const pattern of patterns) {
    for (const match of source.matchAll(pattern)) specifiers.push(match[1] as string);
  }
  return specifiers;
}

/** Room -> rooms it imports, each edge with one import that makes it. */
function roomGraph(): Map<string, Map<string, string>> {
  const graph = new Map<string, Map<string, string>>();
  for (const file of sourceFiles(root)) {
    const path = relative(root, file).split(sep).join('/');
    const from = roomOf(path);
    for (const specifier of relativeImports(readFileSync(file, 'utf8'))) {
      const target = normalize(join(dirname(path), specifier))
        .split(sep)
        .join('/');
      if (target.startsWith('..')) continue;
      const to = roomOf(target);
      if (to === from) continue;
      const edges = graph.get(from) ?? new Map<string, string>();
      if (!edges.has(to)) edges.set(to, `${path} imports ${specifier}`);
      graph.set(from, edges);
    }
  }
  return graph;
}

/** Rooms that reach each other: the strongly connected groups of more than one room. */
function tangledGroups(graph: Map<string, Map<string, string>>): string[][] {
  const reach = (from: string): Set<string> => {
    const seen = new Set<string>();
    const queue = [from];
    for (let room = queue.shift(); room !== undefined; room = queue.shift()) {
      for (const next of graph.get(room)?.keys() ?? []) {
        if (seen.has(next)) continue;
        seen.add(next);
        queue.push(next);
      }
    }
    return seen;
  };
  const reached = new Map([...graph.keys()].map((room) => [room, reach(room)]));
  const groups = new Map<string, string[]>();
  for (const room of [...graph.keys()].sort()) {
    const group = [...graph.keys()]
      .filter(
        (other) =>
          other === room || (reached.get(room)?.has(other) && reached.get(other)?.has(room)),
      )
      .sort();
    if (group.length > 1) groups.set(group.join(), group);
  }
  return [...groups.values()];
}

/** The shortest way back to a room from itself, as the rooms it passes. */
function shortestCycle(graph: Map<string, Map<string, string>>, start: string): string[] {
  const cameFrom = new Map<string, string>();
  const queue = [start];
  for (let room = queue.shift(); room !== undefined; room = queue.shift()) {
    for (const next of [...(graph.get(room)?.keys() ?? [])].sort()) {
      if (next === start) {
        const steps = [start];
        for (
          let at: string | undefined = room;
          at !== start && at !== undefined;
          at = cameFrom.get(at)
        ) {
          steps.splice(1, 0, at);
        }
        return [start, ...steps.slice(1), start];
      }
      if (cameFrom.has(next)) continue;
      cameFrom.set(next, room);
      queue.push(next);
    }
  }
  return [];
}

/** Every tangle of rooms, named by one cycle through its first room and the imports that make it. */
function roomCycles(graph: Map<string, Map<string, string>>): string[] {
  return tangledGroups(graph).map((group) => {
    const steps = shortestCycle(graph, group[0] as string);
    const why = steps.slice(1).map((to, i) => graph.get(steps[i] as string)?.get(to));
    const rest = group.length > steps.length - 1 ? ` [tangled: ${group.join(', ')}]` : '';
    return `${steps.join(' -> ')} (${why.join('; ')})${rest}`;
  });
}

describe('folder imports', () => {
  it('finds a cycle and names it', () => {
    const graph = new Map([
      ['shared/a', new Map([['shared/b', 'a.ts imports ../b/b.js']])],
      ['shared/b', new Map([['shared/a', 'b.ts imports ../a/a.js']])],
      ['functions', new Map([['shared/a', 'f.ts imports ../shared/a/a.js']])],
    ]);
    assert.deepEqual(roomCycles(graph), [
      'shared/a -> shared/b -> shared/a (a.ts imports ../b/b.js; b.ts imports ../a/a.js)',
    ]);
  });

  it('reads the import statements of the sources', () => {
    const graph = roomGraph();
    assert.ok(graph.get('functions')?.has('shared/store'), 'functions/ imports shared/store');
    assert.ok(graph.get('shared/restore')?.has('shared/catalog'), 'restore imports catalog');
  });

  it('has no cycle between folders: a top-level folder or a folder under shared/', () => {
    assert.deepEqual(roomCycles(roomGraph()), []);
  });
});
