/**
 * Checks made before anything is provisioned, so bad input costs no cluster and gets one
 * paragraph and exit 2: every step parameter passes its type's validation (names, counts, ports,
 * addresses), every pod, service and deployment a When/Then step names was created by a Given step
 * of the same scenario, every node exists in the kind config, Helm values have the right types
 * (and, on the lab, are keys it reproduces), and the reports directory is writable.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { descriptorOf } from '../backends/descriptors.ts';
import { planFromKindConfig } from '../backends/lab/topology.ts';
import { requiresTag } from '../backends/types.ts';
import { closest } from '../closest.ts';
import type { Config } from '../config.ts';
import { HookpointError, UsageError } from '../errors.ts';
import { checkHelmValues } from '../helm-values.ts';
import { kindConfigPath } from '../scenario/cluster-setup.ts';
import type { CapturePointRef, NodeRef, NodeScope } from '../scenario/parameter-types.ts';
import { checkDocString, refusalsOf, type StepDoc } from '../scenario/vocabulary.ts';
import { CILIUM_STEP, requestOf } from './configurations.ts';
import type { PlannedScenario } from './features.ts';

/** A cucumber step definition as the runtime holds it (expression.match → arguments with types). */
export interface PreflightDef {
  pattern: string;
  matches(text: string): boolean;
  args(text: string): Array<{ type: string; value: () => unknown }>;
}

const FIX = 'Change the value in the feature file; `hookpoint steps` shows every step with an example.';

function located(err: unknown, where: string, text: string): never {
  if (err instanceof HookpointError) {
    throw new UsageError(`${err.message.replace(/\.$/, '')} (at ${where}, step "${text}").`, err.hint ?? FIX);
  }
  throw new UsageError(
    `Step "${text}" at ${where} has a value that cannot be read: ${String((err as Error)?.message ?? err)}.`,
    FIX,
  );
}

/** Node names a kind config gives: roles (control-plane, worker, worker2) and full names (two per node). */
function nodeNamesOf(kindConfig: string | undefined, config: Config): string[] | undefined {
  let file: string;
  try {
    file = kindConfigPath(kindConfig, config.kindConfig.replace(/^kind-configs\//, ''));
  } catch (err) {
    if (!(err instanceof UsageError) || err.hint) throw err;
    let known: string[] = [];
    try {
      known = readdirSync(path.resolve('kind-configs')).filter((f) => /\.ya?ml$/.test(f));
    } catch {}
    throw new UsageError(
      err.message,
      `Name a kind config in kind-configs/${known.length ? ` (${known.join(', ')})` : ''} in the "a cluster from kind config" step or --kind-config.`,
    );
  }
  const rel = path.relative(process.cwd(), file) || file;
  try {
    const plan = planFromKindConfig(readFileSync(file, 'utf8'), { source: `The kind config ${rel}` });
    return plan.nodes.flatMap((n) => [n.role, n.name]);
  } catch (err) {
    if (err instanceof UsageError && !err.hint)
      throw new UsageError(
        err.message,
        `Fix ${rel} (kind-configs/two-node.yaml shows the shape) or name another kind config.`,
      );
    throw err;
  }
}

/**
 * Validate every step's parameters and the names it refers to. `defs` already passed checkSteps
 * (exactly one definition per step).
 */
export function checkScenarioInputs(
  scenarios: PlannedScenario[],
  defs: PreflightDef[],
  docs: readonly StepDoc[],
  config: Config,
  request: { kindConfig?: string; values: Record<string, string> } | undefined,
): void {
  const given = new Set(docs.filter((d) => d.keyword === 'Given').map((d) => d.expression));
  const nodes = request ? nodeNamesOf(request.kindConfig, config) : undefined;
  if (request) checkHelmValues(request.values, descriptorOf(config.backend), requiresTag('helm-values'));
  for (const sc of scenarios) {
    const declared = { pod: new Set<string>(), service: new Set<string>(), deployment: new Set<string>() };
    const refs: Array<{ kind: 'pod' | 'service' | 'deployment' | 'node'; name: string; where: string; text: string }> =
      [];
    for (const step of sc.steps) {
      const where = `${sc.uri}:${step.line}`;
      const def = defs.find((d) => d.matches(step.text));
      if (!def) continue;
      const declaring = given.has(def.pattern);
      if (step.docString !== null)
        try {
          checkDocString(step.text, step.docString, descriptorOf(config.backend));
        } catch (err) {
          located(err, where, step.text);
        }
      for (const arg of def.args(step.text)) {
        let value: unknown;
        try {
          value = arg.value();
        } catch (err) {
          located(err, where, step.text);
        }
        const add = (kind: 'pod' | 'service' | 'deployment' | 'node', name: string) => {
          if (declaring && kind !== 'node') declared[kind].add(name);
          else refs.push({ kind, name, where, text: step.text });
        };
        if (arg.type === 'pod' || arg.type === 'service' || arg.type === 'deployment') add(arg.type, String(value));
        else if (arg.type === 'node') add('node', (value as NodeRef).text);
        else if (arg.type === 'nodes' && !(value as NodeScope).all)
          for (const n of (value as { nodes: NodeRef[] }).nodes) add('node', n.text);
        else if (arg.type === 'capturePoint') {
          const cp = value as CapturePointRef;
          if ('pod' in cp) add('pod', cp.pod);
          else add('node', cp.node.text);
        }
      }
    }
    for (const r of refs) {
      if (r.kind === 'node') {
        if (nodes && !nodes.includes(r.name))
          throw new UsageError(
            `Unknown node "${r.name}" at ${r.where} (step "${r.text}"); did you mean "${closest(r.name, nodes)[0]}"?`,
            `The kind config has the nodes ${nodes.join(', ')}.`,
          );
        continue;
      }
      const known = declared[r.kind];
      const ok =
        known.has(r.name) || (r.kind === 'pod' && [...declared.deployment].some((d) => r.name.startsWith(`${d}-`)));
      if (!ok) {
        const pool = r.kind === 'pod' ? [...known, ...declared.deployment] : [...known];
        throw new UsageError(
          `Unknown ${r.kind} "${r.name}" at ${r.where} (step "${r.text}"): no Given step of scenario "${sc.name}" creates it${pool.length ? `; did you mean "${closest(r.name, pool)[0]}"?` : '.'}`,
          `Create it with a Given step (\`hookpoint steps\` lists them) or fix the name; this scenario has ${r.kind}s: ${[...known].join(', ') || 'none'}.`,
        );
      }
    }
    // Steps that can tell from their words and the scenario's declarations that they cannot run as written.
    const [refused] = refusalsOf(sc.steps, { nodeCount: nodes ? nodes.length / 2 : undefined });
    if (refused)
      throw new UsageError(
        `Step "${refused.text}" at ${sc.uri}:${refused.line} cannot be judged as written: ${refused.why}.`,
        `Change the step in scenario "${sc.name}"; \`hookpoint steps\` shows every step with an example.`,
      );
  }
}

const CILIUM_EXAMPLE =
  'Given Cilium is installed with:\n      | routingMode          | native |\n      | kubeProxyReplacement | false  |';

/**
 * The shape every scenario needs, checked before anything is provisioned: a `Cilium is installed
 * with:` step with its table (the cluster it runs on; the kind config step stays optional), and a
 * When step before each Then step that judges a traffic window (requests, counters, captures,
 * monitor). Then steps that read the cluster's state (status, routes, ARP, bpftool) need no When.
 * Every problem of the run is named at once.
 */
export function checkScenarioShape(
  scenarios: PlannedScenario[],
  defs: ReadonlyArray<Pick<PreflightDef, 'pattern' | 'matches'>>,
  docs: readonly StepDoc[],
): void {
  const docOf = new Map(docs.map((d) => [d.expression, d]));
  const noCilium = new Map<string, string[]>();
  const noWhen = new Map<string, string>();
  for (const sc of scenarios) {
    if (!requestOf(sc)) {
      const tableless = sc.steps.find((s) => s.text === CILIUM_STEP);
      const what = tableless
        ? `line ${tableless.line} has the "Cilium is installed with:" step without its table of Helm values`
        : `scenario "${sc.name}" (line ${sc.line})`;
      noCilium.set(sc.uri, [...new Set([...(noCilium.get(sc.uri) ?? []), what])]);
    }
    let when = false;
    for (const step of sc.steps) {
      const doc = docOf.get(defs.find((d) => d.matches(step.text))?.pattern ?? '');
      if (doc?.keyword === 'When') when = true;
      const where = `${sc.uri}:${step.line}`;
      if (doc?.keyword === 'Then' && doc.judges === 'window' && !when && !noWhen.has(where))
        noWhen.set(
          where,
          `${where}: "${step.text}" judges the traffic of a When step, but scenario "${sc.name}" has no When step before it`,
        );
    }
  }
  if (noCilium.size) {
    const lines = [...noCilium].map(([uri, what]) => `${uri}: ${what.join(', ')}`);
    throw new UsageError(
      `${noCilium.size === 1 ? 'A feature has' : `${noCilium.size} features have`} no "Given Cilium is installed with:" step, so the run does not know which cluster to provision: ${lines.join('; ')}.`,
      `Add it to the feature's Background with the Helm values the scenarios expect, e.g. ${CILIUM_EXAMPLE}; \`Given a cluster from kind config "two-node.yaml"\` before it stays optional.`,
    );
  }
  if (noWhen.size) {
    const list = [...noWhen.values()];
    throw new UsageError(
      list.length === 1 ? `${list[0]}.` : `${list.length} Then steps have no When before them: ${list.join('; ')}.`,
      'Put a When step that sends traffic, such as `When pod "client" sends 10 HTTP requests to service "echo"`, before the Then steps that judge it (`hookpoint steps` lists them).',
    );
  }
}

export { checkReportsDir } from './reports-dir.ts';
