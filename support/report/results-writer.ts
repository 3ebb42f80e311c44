/**
 * Where allure-cucumberjs puts a run's results: the same files in the same directory as its own
 * FileSystemWriter (`<uuid>-result.json`, `<uuid>-container.json`, attachments, categories,
 * environment), each written under a temporary name and renamed, so a reader never sees half a file.
 *
 * Why not the library's writer: it fsyncs every file, synchronously, on the run's only thread —
 * about 200 times in a seed run, 1–2 ms each on a VM disk, and the run's commands wait meanwhile.
 * Durability across a power cut buys nothing here: the reports are rendered from these files by
 * the same run, seconds later, and a run that did not finish renders nothing (run-suite.ts).
 */
import { randomUUID } from 'node:crypto';
import { copyFileSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Globals, TestResult, TestResultContainer } from 'allure-js-commons';
import type { Category, EnvironmentInfo } from 'allure-js-commons/sdk';
import { stringifyEnvInfo, type Writer } from 'allure-js-commons/sdk/reporter';

export class ResultsWriter implements Writer {
  private made = false;
  readonly resultsDir: string;

  constructor(resultsDir: string) {
    this.resultsDir = resultsDir;
  }

  writeResult(result: TestResult): void {
    this.json(`${result.uuid}-result.json`, result);
  }

  writeGroup(result: TestResultContainer): void {
    this.json(`${result.uuid}-container.json`, result);
  }

  writeAttachment(name: string, content: Buffer): void {
    this.publish(name, (tmp) => writeFileSync(tmp, content));
  }

  writeAttachmentFromPath(name: string, from: string): void {
    this.publish(name, (tmp) => copyFileSync(from, tmp));
  }

  writeEnvironmentInfo(info: EnvironmentInfo): void {
    this.publish('environment.properties', (tmp) => writeFileSync(tmp, stringifyEnvInfo(info), 'utf8'));
  }

  writeCategoriesDefinitions(categories: Category[]): void {
    this.json('categories.json', categories);
  }

  writeGlobals(name: string, info: Globals): void {
    this.json(name, info);
  }

  private json(name: string, data: unknown): void {
    this.publish(name, (tmp) => writeFileSync(tmp, JSON.stringify(data), 'utf8'));
  }

  private publish(name: string, write: (tmp: string) => void): void {
    if (!this.made) {
      mkdirSync(this.resultsDir, { recursive: true });
      this.made = true;
    }
    const to = path.join(this.resultsDir, name);
    const tmp = path.join(this.resultsDir, `.allure-write-${randomUUID()}.tmp`);
    try {
      write(tmp);
      renameSync(tmp, to);
    } catch (err) {
      rmSync(tmp, { force: true });
      throw err;
    }
  }
}
