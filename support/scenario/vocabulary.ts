/**
 * The step catalog: every step is registered through defineStep with one example and a line of
 * documentation, so `hookpoint steps` prints the vocabulary generated from the definitions and
 * undefined steps can be answered with the closest known ones.
 */
import { Given, Then, When } from '@cucumber/cucumber';
import { CucumberExpression, type ParameterTypeRegistry } from '@cucumber/cucumber-expressions';
import type { BackendDescriptor } from '../backends/types.ts';
import { editDistance } from '../closest.ts';
import { HookpointError, UsageError } from '../errors.ts';
import { type CapturePointRef, type NodeRef, parameterTypeRegistry } from './parameter-types.ts';
import type { HookpointWorld } from './world.ts';

export type Keyword = 'Given' | 'When' | 'Then';

export interface StepDoc {
  keyword: Keyword;
  expression: string;
  example: string;
  doc: string;
  /**
   * What a Then step judges: `window` — the evidence of the last traffic step (a When must come
   * before it); `state` — the cluster as it is (status, routes, ARP, bpftool), no When needed.
   */
  judges?: 'window' | 'state';
}

export const catalog: StepDoc[] = [];

const REGISTER = { Given, When, Then } as const;

// biome-ignore lint/suspicious/noExplicitAny: cucumber passes typed parameters per expression.
type StepFn = (this: HookpointWorld, ...args: any[]) => Promise<void> | void;

/** Probes a step needs running during the scenario's traffic window. */
export interface Arming {
  captures?: CapturePointRef[];
  monitors?: NodeRef[];
  /** The step judges kube-proxy's counters: their snapshots are held for it, not shown on the traffic step. */
  counters?: boolean;
}

// biome-ignore lint/suspicious/noExplicitAny: the step's own typed parameters, as cucumber passes them.
type ArmFn = (...args: any[]) => Arming;

/** A service as a Background step asks for it. */
export interface ServiceRequest {
  name: string;
  app: string;
  port: number;
  type: 'ClusterIP' | 'NodePort';
  nodePort?: number;
  onlyNodes?: NodeRef[];
  /** The pods' port the service sends to (else the echo's own port). */
  targetPort?: number;
  /** TCP unless said. */
  protocol?: 'TCP' | 'UDP';
}

/** A workload a step creates (what `hookpoint plan` prints the manifest of). */
export type WorkloadDecl =
  | { kind: 'echo'; name: string; nodes: NodeRef[] | 'every' }
  | ({ kind: 'service' } & ServiceRequest)
  | { kind: 'client'; name: string; node: NodeRef; namespace?: string; labels?: Record<string, string> };

// biome-ignore lint/suspicious/noExplicitAny: the step's own typed parameters, as cucumber passes them.
type WorkloadFn = (...args: any[]) => WorkloadDecl[];

const declarers: Array<{ expression: string; workloads: WorkloadFn; compiled?: CucumberExpression }> = [];

/** What a scenario states before anything is provisioned: the step refusals (exit 2) read it. */
export interface ScenarioPlan {
  /** The workloads its Given steps declare, in step order. */
  workloads: WorkloadDecl[];
  /** Nodes of its cluster (from the kind config), when known. */
  nodeCount?: number;
  /** The traffic of the last When step before the step judged (what its Then steps judge). */
  lastTraffic?: TrafficDecl;
}

/** What a traffic step sends, as its words state it. */
export interface TrafficDecl {
  count: number;
  /** The service addressed, when it is one. */
  service?: string;
}

// biome-ignore lint/suspicious/noExplicitAny: the step's own typed parameters, as cucumber passes them.
type SendsFn = (...args: any[]) => TrafficDecl;

const senders: Array<{ expression: string; sends: SendsFn; compiled?: CucumberExpression }> = [];

/** Why a step cannot be run as written, decided from its words and the scenario's plan; undefined when it can. */
// biome-ignore lint/suspicious/noExplicitAny: the step's own typed parameters, then the scenario's plan.
type RefuseFn = (...args: any[]) => string | undefined;

const refusers: Array<{ expression: string; refuse: RefuseFn; compiled?: CucumberExpression }> = [];

const armers: Array<{ expression: string; arms: ArmFn; compiled?: CucumberExpression }> = [];

/** Checks a step makes of its doc string before anything is provisioned (throws one paragraph). */
type DocStringCheck = (text: string, backend: BackendDescriptor) => void;
const docStringChecks: Array<{ expression: string; check: DocStringCheck; compiled?: CucumberExpression }> = [];
let registry: ParameterTypeRegistry | undefined;

export function defineStep(
  keyword: Keyword,
  expression: string,
  meta: {
    example: string;
    doc: string;
    timeoutMs?: number;
    arms?: ArmFn;
    workloads?: WorkloadFn;
    /** A Then step that reads the cluster's state, not a traffic window: it needs no When before it. */
    state?: boolean;
    checkDocString?: DocStringCheck;
    /** A refusal checked before provisioning (exit 2): called with the step's parameters, then the scenario's plan. */
    refuse?: RefuseFn;
    /** A traffic step: what it sends (the refusals of the Then steps after it read it). */
    sends?: SendsFn;
  },
  fn: StepFn,
): void {
  catalog.push({
    keyword,
    expression,
    example: meta.example,
    doc: meta.doc,
    ...(keyword === 'Then' ? { judges: meta.state ? 'state' : 'window' } : {}),
  });
  if (meta.checkDocString) docStringChecks.push({ expression, check: meta.checkDocString });
  if (meta.refuse) refusers.push({ expression, refuse: meta.refuse });
  if (meta.sends) senders.push({ expression, sends: meta.sends });
  if (meta.arms) armers.push({ expression, arms: meta.arms });
  if (meta.workloads) declarers.push({ expression, workloads: meta.workloads });
  REGISTER[keyword](expression, { timeout: meta.timeoutMs ?? 120_000 }, paragraphOnFailure(fn));
}

/**
 * A sentence users write that Hookpoint refuses by design (a question the datapath cannot
 * answer): defined, so it is not reported as an undefined step, refused before provisioning
 * with `why` (exit 2), and — should it ever run — failing with the same paragraph. Not in the
 * catalog: `hookpoint steps` lists what can be said.
 */
export function defineRefusal(keyword: Keyword, expression: string, why: RefuseFn): void {
  refusers.push({ expression, refuse: why });
  const fn: StepFn = (...args: unknown[]) => {
    throw new UsageError(`${why(...args)}.`);
  };
  // Cucumber checks a definition's arity against its expression's parameters.
  Object.defineProperty(fn, 'length', { value: expression.match(/\{[^}]*\}/g)?.length ?? 0 });
  REGISTER[keyword](expression, paragraphOnFailure(fn));
}

/**
 * What a scenario's steps declared they need armed, read from the step texts with the same
 * expressions and parameter types cucumber matches them with (no second grammar).
 */
export function armingOf(stepTexts: readonly string[]): Required<Arming> {
  registry ??= parameterTypeRegistry();
  const out: Required<Arming> = { captures: [], monitors: [], counters: false };
  for (const text of stepTexts) {
    for (const a of armers) {
      a.compiled ??= new CucumberExpression(a.expression, registry);
      const args = a.compiled.match(text);
      if (!args) continue;
      const { captures = [], monitors = [], counters = false } = a.arms(...args.map((arg) => arg.getValue(null)));
      out.captures.push(...captures);
      out.counters ||= counters;
      for (const m of monitors) if (!out.monitors.some((x) => x.text === m.text)) out.monitors.push(m);
    }
  }
  return out;
}

/** Run the doc-string check of the step this text matches, if it has one (preflight). */
export function checkDocString(stepText: string, docString: string, backend: BackendDescriptor): void {
  registry ??= parameterTypeRegistry();
  for (const c of docStringChecks) {
    c.compiled ??= new CucumberExpression(c.expression, registry);
    if (c.compiled.match(stepText)) c.check(docString, backend);
  }
}

/**
 * The workloads the steps declare they create, in step order, read with the same expressions and
 * parameter types cucumber matches them with.
 */
export function workloadsOf(stepTexts: readonly string[]): WorkloadDecl[] {
  registry ??= parameterTypeRegistry();
  const out: WorkloadDecl[] = [];
  for (const text of stepTexts)
    for (const d of declarers) {
      d.compiled ??= new CucumberExpression(d.expression, registry);
      const args = d.compiled.match(text);
      if (args) out.push(...d.workloads(...args.map((arg) => arg.getValue(null))));
    }
  return out;
}

/**
 * The refusals of a scenario's steps, in step order: each step whose definition can tell from
 * its words and the scenario's declared workloads that it cannot be run as written.
 */
export function refusalsOf(
  steps: ReadonlyArray<{ text: string; line?: number }>,
  plan: Omit<ScenarioPlan, 'workloads'> = {},
): Array<{ text: string; line?: number; why: string }> {
  registry ??= parameterTypeRegistry();
  const scenario: ScenarioPlan = { ...plan, workloads: workloadsOf(steps.map((s) => s.text)) };
  const out: Array<{ text: string; line?: number; why: string }> = [];
  const valuesOf = (c: CucumberExpression, text: string) => c.match(text)?.map((arg) => arg.getValue(null));
  for (const step of steps) {
    for (const r of refusers) {
      r.compiled ??= new CucumberExpression(r.expression, registry);
      const args = valuesOf(r.compiled, step.text);
      if (!args) continue;
      const why = r.refuse(...args, scenario);
      if (why) out.push({ ...step, why });
    }
    for (const d of senders) {
      d.compiled ??= new CucumberExpression(d.expression, registry);
      const args = valuesOf(d.compiled, step.text);
      if (args) scenario.lastTraffic = d.sends(...args);
    }
  }
  return out;
}

/**
 * Hookpoint's own errors reach cucumber's output as their one paragraph (message and hint), not a
 * stack trace — unless --debug. The wrapper keeps fn's arity, which cucumber checks.
 */
function paragraphOnFailure(fn: StepFn): StepFn {
  const wrapped = async function (this: HookpointWorld, ...args: unknown[]) {
    try {
      return await fn.apply(this, args);
    } catch (err) {
      if (err instanceof HookpointError && !process.argv.includes('--debug')) {
        err.message = err.paragraph();
        err.stack = `${err.name}: ${err.message}`;
        // The hint now lives in the message; paragraph() must not repeat it.
        Object.defineProperty(err, 'hint', { value: undefined });
      }
      throw err;
    }
  };
  Object.defineProperty(wrapped, 'length', { value: fn.length });
  return wrapped;
}

/** Edit distance on words, for "did you mean". */
export function closestSteps(text: string, candidates: readonly StepDoc[], n = 3): StepDoc[] {
  const norm = (s: string) =>
    s
      .toLowerCase()
      .replace(/\{[^}]+\}/g, 'x')
      .replace(/"[^"]*"/g, 'x')
      .replace(/\d+/g, 'x')
      .split(/\s+/)
      .filter(Boolean);
  const a = norm(text);
  const scored = candidates.map((c) => ({ c, d: editDistance(a, norm(c.expression)) }));
  scored.sort((x, y) => x.d - y.d);
  return scored.slice(0, n).map((s) => s.c);
}
