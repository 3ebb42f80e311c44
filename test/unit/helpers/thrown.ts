/**
 * Test support: what a verdict threw, as one comparable object (kind, message, the expected/actual
 * pair Allure shows, the hint of an inconclusive). Comparing the whole object with deepEqual pins
 * the failure a person reads word for word; a verdict that does not throw fails the test.
 */
import assert from 'node:assert/strict';
import { InconclusiveError } from '../../../support/errors.ts';

export interface Thrown {
  /** `inconclusive` for an InconclusiveError, else the error's name (`AssertionError`). */
  kind: string;
  message: string;
  expected?: unknown;
  actual?: unknown;
  hint?: string;
}

export function thrown(f: () => unknown): Thrown {
  try {
    f();
  } catch (err) {
    const e = err as Error & { expected?: unknown; actual?: unknown; hint?: string };
    return {
      kind: err instanceof InconclusiveError ? 'inconclusive' : e.name,
      message: e.message,
      ...(e.expected !== undefined ? { expected: e.expected } : {}),
      ...(e.actual !== undefined ? { actual: e.actual } : {}),
      ...(e.hint !== undefined ? { hint: e.hint } : {}),
    };
  }
  return assert.fail('expected the verdict to throw');
}
