/**
 * Scenario lifecycle: arm probes from the scenario's own step texts, skip (with the reason) what
 * the backend or Cilium version cannot do, attach the transcript always, and collect node
 * evidence when a scenario fails or breaks.
 */
import 'allure-cucumberjs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  After,
  AfterAll,
  Before,
  BeforeStep,
  type ITestCaseHookParameter,
  Status,
  setDefaultTimeout,
} from '@cucumber/cucumber';
import * as allure from 'allure-js-commons';
import type { Capability } from '../backends/types.ts';
import { CONFIGURATION_PARAMETER } from '../configuration-file.ts';
import { MediaType, slug } from '../evidence/index.ts';
import { Transcript } from '../exec/index.ts';
import { type ReportStatus, reportStatusOf } from '../report/verdict.ts';
import { runContext, setRunContext } from '../run/context.ts';
import { collectFailureEvidence } from './failure-collectors.ts';
import { registerParameterTypes } from './parameter-types.ts';
import { versionSatisfies } from './version-gate.ts';
import { armingOf } from './vocabulary.ts';
import type { HookpointWorld } from './world.ts';

registerParameterTypes();
setDefaultTimeout(120_000);

Before(async function (this: HookpointWorld, { pickle }: ITestCaseHookParameter) {
  await this.init();
  const { config, backend } = this.ctx;
  await allure.parameter('backend', backend.name);
  await allure.parameter('cilium', config.cilium);
  if (config.variants.length) await allure.parameter('lab variant', config.variants.join(','));
  // Which cluster configuration (kind config + Helm values, a --configuration file's name) the
  // scenario ran in: a run may provision several, a matrix --configs column is one (configurations.ts).
  if (this.ctx.configuration) await allure.parameter(CONFIGURATION_PARAMETER, this.ctx.configuration.id);

  for (const tag of pickle.tags.map((t) => t.name)) {
    const req = /^@requires:(.+)$/.exec(tag);
    if (req && !backend.capabilities().has(req[1] as Capability)) {
      await this.evidence.attach(
        'skipped',
        'scenario',
        MediaType.text,
        `Skipped: the ${backend.name} backend lacks capability "${req[1]}".`,
      );
      return Status.SKIPPED.toLowerCase() as 'skipped';
    }
    const gate = /^@cilium:(.+)$/.exec(tag);
    if (gate && !versionSatisfies(config.cilium, gate[1]!)) {
      await this.evidence.attach(
        'skipped',
        'scenario',
        MediaType.text,
        `Skipped: Cilium ${config.cilium} does not satisfy ${gate[1]}.`,
      );
      return 'skipped';
    }
  }

  // Arm exactly what the scenario's steps declare they read (`arms:` on their definitions).
  this.armed = armingOf(pickle.steps.map((s) => s.text));
  return undefined;
});

BeforeStep(function (this: HookpointWorld) {
  this.evidence.stepStarted();
});

/** The scenario's status as Allure will show it (an assertion failed; anything else broke). */
function scenarioStatus(result: ITestCaseHookParameter['result']): ReportStatus {
  if (!result || result.status === Status.PASSED) return 'passed';
  if (result.status === Status.SKIPPED || result.status === Status.PENDING) return 'skipped';
  if (result.status !== Status.FAILED || !result.exception) return 'broken';
  const { type, message, stackTrace } = result.exception;
  return reportStatusOf({ name: type, message: message ?? result.message ?? '', stack: stackTrace ?? '' });
}

After(async function (this: HookpointWorld, { pickle, result }: ITestCaseHookParameter) {
  // Evidence held for a Then step that never ran (an earlier step failed) is still shown.
  for (const name of this.evidence.unshown()) await this.evidence.show(name);
  const failed =
    result &&
    (result.status === Status.FAILED || result.status === Status.UNDEFINED || result.status === Status.AMBIGUOUS);
  if (failed && this.ctx) {
    try {
      await collectFailureEvidence(this, [...this.involvedNodes]);
    } catch (err) {
      await this.evidence.attach(
        'collectors',
        'scenario',
        MediaType.text,
        `Failure collectors could not run: ${(err as Error).message}`,
      );
    }
  }
  // The scenario's policies go with it, whatever its outcome (newest first).
  for (const policy of this.policies.splice(0).reverse()) await this.backend.removeNetworkPolicy(policy);
  if (this.window) {
    try {
      const { packetPathOf } = await import('./observed-path.ts');
      const { packetPathSvg } = await import('../report/packet-path-svg.ts');
      const svg = packetPathSvg(
        packetPathOf(this.window, await this.topology(), `${pickle.name} — ${scenarioStatus(result)}`, this.judgements),
      );
      await this.evidence.attach('packet-path', 'scenario', MediaType.svg, svg);
    } catch (err) {
      await this.evidence.attach(
        'packet-path',
        'scenario',
        MediaType.text,
        `The packet path could not be drawn: ${(err as Error).message}`,
      );
    }
  }
  if (this.transcript.records.length && this.ctx) {
    await this.evidence.attach('transcript', 'scenario', MediaType.text, Transcript.render(this.transcript.records));
    // Machine-readable too, so scripts (and the suite benchmark's baseline) can replay the run by hand.
    const dir = path.resolve(this.ctx.config.reportsDir, 'transcripts');
    await mkdir(dir, { recursive: true });
    await writeFile(
      path.join(dir, `${slug(pickle.uri)}-${slug(pickle.name)}.json`),
      JSON.stringify(
        { run: this.ctx.runId, scenario: pickle.name, uri: pickle.uri, records: this.transcript.records },
        null,
        1,
      ),
    );
  }
});

AfterAll(async () => {
  // Only a plain `cucumber-js` run owns its backend here; `hookpoint run` tears down itself.
  if (process.env.HOOKPOINT_RUN_OWNER === 'hookpoint') return;
  const ctx = await runContext();
  if (ctx.config.keep !== 'always') await ctx.backend.teardown();
  setRunContext(undefined);
});
