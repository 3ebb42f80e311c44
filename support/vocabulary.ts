/**
 * The step catalog: every step is registered through defineStep with one example and a line of
 * documentation, so `hookpoint steps` prints the vocabulary generated from the definitions and
 * undefined steps can be answered with the closest known ones.
 */
import { Given, Then, When } from '@cucumber/cucumber';
import type { HookpointWorld } from './world.ts';

export type Keyword = 'Given' | 'When' | 'Then';

export interface StepDoc {
  keyword: Keyword;
  expression: string;
  example: string;
  doc: string;
}

export const catalog: StepDoc[] = [];

const REGISTER = { Given, When, Then } as const;

// biome-ignore lint/suspicious/noExplicitAny: cucumber passes typed parameters per expression.
type StepFn = (this: HookpointWorld, ...args: any[]) => Promise<void> | void;

export function defineStep(
  keyword: Keyword,
  expression: string,
  meta: { example: string; doc: string; timeoutMs?: number },
  fn: StepFn,
): void {
  catalog.push({ keyword, expression, example: meta.example, doc: meta.doc });
  REGISTER[keyword](expression, { timeout: meta.timeoutMs ?? 120_000 }, fn);
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
  const scored = candidates.map((c) => ({ c, d: distance(a, norm(c.expression)) }));
  scored.sort((x, y) => x.d - y.d);
  return scored.slice(0, n).map((s) => s.c);
}

function distance(a: string[], b: string[]): number {
  const dp = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) dp[0]![j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      dp[i]![j] = Math.min(
        dp[i - 1]![j]! + 1,
        dp[i]![j - 1]! + 1,
        dp[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
  return dp[a.length]![b.length]!;
}
