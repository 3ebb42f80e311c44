/**
 * House rules that a reviewer should not have to check by hand: only support/exec spawns
 * processes, and steps stay thin (no tool knowledge in steps/).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

const ROOT = path.resolve(import.meta.dirname, '../..');

function files(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(path.join(ROOT, dir))) {
    const rel = path.join(dir, e);
    if (e === 'node_modules' || e.startsWith('.')) continue;
    if (statSync(path.join(ROOT, rel)).isDirectory()) files(rel, out);
    else if (/\.(ts|js|mjs)$/.test(e)) out.push(rel);
  }
  return out;
}

const SPAWNS = /from ['"](execa|node:child_process|child_process)['"]|require\(['"](node:)?child_process['"]\)/;

test('only support/exec spawns processes (house rule 2)', () => {
  const offenders = ['support', 'steps', 'bin', 'bench']
    .flatMap((d) => files(d))
    .filter((f) => !f.startsWith('support/exec/') && SPAWNS.test(readFileSync(path.join(ROOT, f), 'utf8')));
  assert.deepEqual(offenders, []);
});

test('the check itself sees an offending import', () => {
  assert.ok(SPAWNS.test("import { execa } from 'execa';"));
  assert.ok(SPAWNS.test("import { spawn } from 'node:child_process';"));
});

test('steps hold no tool knowledge (house rule 1)', () => {
  const TOOL = /execa|child_process|iptables-save|tcpdump -|bpftool (net|prog)|\bip (route|neigh)\b|cilium-dbg/;
  const offenders = files('steps').filter((f) => TOOL.test(readFileSync(path.join(ROOT, f), 'utf8')));
  assert.deepEqual(offenders, []);
});

// ---- Layers (docs/architecture.md): no upward import, no file without a layer. ----

interface Layer {
  name: string;
  paths: string[];
}

/** The layer table between the `layers:begin`/`layers:end` markers, lowest layer first. */
function readLayers(markdown: string): Layer[] {
  const block = /<!-- layers:begin[^>]*-->([\s\S]*?)<!-- layers:end -->/.exec(markdown);
  assert.ok(block, 'docs/architecture.md has no layers:begin/layers:end block');
  return block[1]!
    .split('\n')
    .map((l) => l.split('|').map((c) => c.trim()))
    .filter((c) => c.length >= 4 && c[2]!.includes('`'))
    .map((c) => ({ name: c[1]!, paths: [...c[2]!.matchAll(/`([^`]+)`/g)].map((m) => m[1]!) }));
}

/** Index of the layer whose longest path prefix claims the file, or -1. */
function layerOf(layers: Layer[], file: string): number {
  let best = -1;
  let bestLen = -1;
  layers.forEach((l, i) => {
    for (const p of l.paths) {
      const claims = p.endsWith('/') ? file.startsWith(p) : file === p;
      if (claims && p.length > bestLen) {
        best = i;
        bestLen = p.length;
      }
    }
  });
  return best;
}

const IMPORT = /(?:\bfrom|\bimport)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g;

/** Every upward import and every file without a layer, as readable lines. */
function layerViolations(layers: Layer[], sources: Map<string, string>): string[] {
  const out: string[] = [];
  for (const [file, text] of sources) {
    const from = layerOf(layers, file);
    if (from < 0) {
      out.push(`${file} belongs to no layer in docs/architecture.md`);
      continue;
    }
    for (const m of text.matchAll(IMPORT)) {
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), m[1]!));
      const to = layerOf(layers, target);
      if (to > from)
        out.push(`${file} (${layers[from]!.name}) imports ${target} (${layers[to]!.name}), a higher layer`);
    }
  }
  return out;
}

const LAYERS = readLayers(readFileSync(path.join(ROOT, 'docs/architecture.md'), 'utf8'));

test('imports never point to a higher layer; every file has one (docs/architecture.md)', () => {
  const sources = new Map(
    ['support', 'steps']
      .flatMap((d) => files(d))
      .filter((f) => f.endsWith('.ts'))
      .map((f) => [f.split(path.sep).join('/'), readFileSync(path.join(ROOT, f), 'utf8')] as const),
  );
  assert.ok(sources.size > 100, `expected the whole tree, read ${sources.size} files`);
  assert.deepEqual(layerViolations(LAYERS, sources), []);
});

test('the layer check rejects an upward import, a dynamic one and a file with no layer', () => {
  assert.ok(LAYERS.length >= 10, 'the layer table was read');
  const sources = new Map([
    ['support/probes/x.ts', "import type { HookpointWorld } from '../scenario/world.ts';"],
    ['support/backends/y.ts', "const m = await import('../run/prerequisites.ts');"],
    ['support/parsers/z.ts', "import { run } from '../exec/index.ts';"],
    ['support/nowhere.ts', ''],
    ['support/scenario/ok.ts', "import { parseMonitor } from '../parsers/monitor.ts';"],
  ]);
  const found = layerViolations(LAYERS, sources);
  assert.equal(found.length, 4, found.join('\n'));
  assert.match(found.join('\n'), /probes\/x\.ts \(probes\) imports support\/scenario\/world\.ts \(scenario\)/);
  assert.match(found.join('\n'), /backends\/y\.ts .* support\/run\/prerequisites\.ts \(run\)/);
  assert.match(found.join('\n'), /parsers\/z\.ts .* \(exec\)/);
  assert.match(found.join('\n'), /support\/nowhere\.ts belongs to no layer/);
});
