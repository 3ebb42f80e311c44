/**
 * The kind backend: a Kind cluster (created or reused by name), Cilium installed with Helm from
 * the feature's values, readiness waits, then everything in ClusterBackend. Provisioning happens
 * once per run and spec; `--reuse` keeps the cluster across runs after checking its fingerprint;
 * `--keep` decides whether a cluster this run created survives teardown.
 */

import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Config, ImageOverrides } from '../../config.ts';
import { InfraError, UsageError } from '../../errors.ts';
import type { IptablesMode } from '../../kube-proxy/mode.ts';
import { parseCiliumVersion, parseK8sVersion } from '../k8s/cilium-versions.ts';
import { ClusterBackend, type ClusterBackendDeps } from '../k8s/cluster-backend.ts';
import { canonicalValues, loadValuesFile, mergeValues } from '../k8s/helm-value-maps.ts';
import type { Capability, ClusterSpec } from '../types.ts';
import { ChartValuesCache, checkValueKeys } from './helm-keys.ts';
import { kindLifecycle } from './lifecycle.ts';
import { pinnedNodeImage } from './node-images.ts';
import { chartCacheDir, kubeconfigPathFor } from './paths.ts';
import {
  type ChartSource,
  chartRef,
  dockerImagePresentArgv,
  dockerServerArgv,
  helmRepoAddArgv,
  helmRepoUpdateArgv,
  helmUpgradeInstallArgv,
  imageValues,
  installValues,
  kindLoadArgv,
  kindNodeImage,
  kindVersionArgv,
  loadableImages,
} from './plan.ts';

export type KeepPolicy = 'never' | 'on-failure' | 'always';

export interface KindBackendOptions {
  cluster: string;
  k8sVersion: string;
  /** Default kind config when the spec names none. */
  kindConfig: string;
  /** Values files applied under the feature's own values. */
  valuesFiles: string[];
  chart: ChartSource;
  reuse: boolean;
  keep: KeepPolicy;
  reportsDir: string;
  iptables?: IptablesMode;
  /** --image overrides (node, cilium, operator here; probe, echo, client in the workloads). */
  images?: ImageOverrides;
  /** --kind-load: load the run's images present in the local Docker into the nodes. */
  kindLoad?: boolean;
}

export interface ProvisionRecord {
  created: boolean;
  installed: boolean;
  fingerprint: string;
}

export class KindBackend extends ClusterBackend {
  readonly kindOpts: KindBackendOptions;
  private readonly life;
  private readonly charts: ChartValuesCache;
  private repoReady = false;
  private clusterReady = false;
  private created = false;
  private failed = false;
  private provisioned: string | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  /** The container engine and kind that run the cluster, as they name themselves (read on every run). */
  private engine: string | undefined;
  /** What each provision() call did (tests and the report environment read it). */
  readonly provisions: ProvisionRecord[] = [];

  constructor(o: KindBackendOptions, deps: ClusterBackendDeps = {}) {
    super(
      {
        name: 'kind',
        cluster: o.cluster,
        kubeconfig: kubeconfigPathFor(o.reportsDir, o.cluster),
        iptables: o.iptables,
        nodeAccess: 'docker',
        images: o.images,
      },
      deps,
    );
    parseK8sVersion(o.k8sVersion);
    this.kindOpts = o;
    this.life = kindLifecycle(this.exec_);
    this.charts = new ChartValuesCache(this.exec_, chartCacheDir(o.reportsDir));
  }

  override describe(): string {
    return `kind + Cilium ${this.version?.text ?? '(not installed yet)'} (cluster ${this.kindOpts.cluster}, Kubernetes ${parseK8sVersion(this.kindOpts.k8sVersion)}${this.engine ? `; engine: ${this.engine}` : ''})`;
  }

  override capabilities(): ReadonlySet<Capability> {
    return new Set<Capability>([...super.capabilities(), 'lifecycle']);
  }

  get kubeconfig(): string {
    return this.opts.kubeconfig;
  }

  /** Tell the backend the run failed (for --keep on-failure). */
  noteFailure(): void {
    this.failed = true;
  }

  override provision(spec: ClusterSpec): Promise<void> {
    // One at a time: a second caller waits and then finds the work done.
    const next = this.chain.then(() =>
      this.provisionNow(spec).catch((err: unknown) => {
        this.failed = true;
        throw err;
      }),
    );
    this.chain = next.catch(() => {});
    return next;
  }

  private ledgerFile(): string {
    return path.join(path.dirname(this.opts.kubeconfig), 'ledger.json');
  }

  private writeLedger(): void {
    mkdirSync(path.dirname(this.ledgerFile()), { recursive: true });
    writeFileSync(
      this.ledgerFile(),
      `${JSON.stringify(
        {
          cluster: this.kindOpts.cluster,
          createdByThisRun: this.created,
          runId: this.runId,
          namespace: this.namespace,
          kubeconfig: this.opts.kubeconfig,
          pid: process.pid,
          at: new Date().toISOString(),
        },
        null,
        2,
      )}\n`,
    );
  }

  private async provisionNow(spec: ClusterSpec): Promise<void> {
    const version = parseCiliumVersion(spec.ciliumVersion);
    const k8s = parseK8sVersion(spec.k8sVersion || this.kindOpts.k8sVersion);
    const kindConfig = spec.kindConfig || this.kindOpts.kindConfig;
    const base = mergeValues(...this.kindOpts.valuesFiles.map((f) => loadValuesFile(f)), spec.ciliumValues);
    const installed = installValues(version, this.kindOpts.cluster, base);
    const notes = installed.notes;
    // Hookpoint's own image values are not the feature's: they are set, not checked against the chart excerpt.
    const values = { ...installed.values, ...imageValues(this.kindOpts.images) };
    const fingerprint = `${kindConfig}|${k8s}|${version.text}|${canonicalValues(values)}`;
    if (this.provisioned === fingerprint) return;
    for (const n of notes) this.progress(n);
    const record: ProvisionRecord = { created: false, installed: false, fingerprint };

    // 1. The chart and its keys, before anything is created.
    const chart = this.kindOpts.chart;
    if (chart.kind === 'repo' && !this.repoReady) {
      await this.exec_.run(helmRepoAddArgv(), { timeoutMs: this.t.helmRepo, where: 'host' });
      await this.exec_.run(helmRepoUpdateArgv(), { timeoutMs: this.t.helmRepo, where: 'host' });
      this.repoReady = true;
    }
    const index = await this.charts.index(chart, version.text);
    checkValueKeys(index, Object.keys(installed.values), `${chartRef(chart)} ${version.text}`);

    // 2. The cluster: create, or reuse an existing one by name.
    if (!this.clusterReady) {
      this.engine ??= await this.readEngine();
      this.progress(`container engine: ${this.engine}`);
      const exists = await this.life.exists(this.kindOpts.cluster);
      if (exists && !this.kindOpts.reuse)
        throw new UsageError(
          `A Kind cluster named "${this.kindOpts.cluster}" already exists.`,
          `Pass --reuse to run on it (its Cilium version and values are checked first), or delete it with \`hookpoint down --backend kind --cluster ${this.kindOpts.cluster}\`.`,
        );
      if (exists) {
        this.progress(`reusing Kind cluster "${this.kindOpts.cluster}"`);
        await this.life.exportKubeconfig(this.kindOpts.cluster, this.opts.kubeconfig);
      } else {
        const nodeImage = kindNodeImage(k8s, this.kindOpts.images?.node);
        const pinned = pinnedNodeImage(k8s);
        this.progress(
          `creating Kind cluster "${this.kindOpts.cluster}" (Kubernetes ${k8s}, ${kindConfig}, node image ${nodeImage}${
            this.kindOpts.images?.node
              ? ', from --image'
              : pinned
                ? `, built by kind ${pinned.kind}`
                : ', not pinned by digest'
          })`,
        );
        await this.life.create({
          cluster: this.kindOpts.cluster,
          k8sVersion: k8s,
          kindConfig,
          kubeconfig: this.opts.kubeconfig,
          nodeImage,
        });
        this.created = true;
        record.created = true;
      }
      this.clusterReady = true;
      this.writeLedger();
      if (this.kindOpts.kindLoad) await this.loadImages();
    }

    // 3. The lock, as soon as the API answers.
    await this.takeLock();

    // 4. Cilium: install, unless a reused cluster already runs this version with these values.
    let install = true;
    if (!this.created && this.provisioned === undefined) {
      const have = await this.installedCilium();
      const sameVersion = have.version === version.text;
      const sameValues = have.values !== undefined && canonicalValues(have.values) === canonicalValues(values);
      if (sameVersion && sameValues) {
        install = false;
        this.progress(`cluster "${this.kindOpts.cluster}" already runs Cilium ${version.text} with the same values`);
      } else {
        this.progress(
          `cluster "${this.kindOpts.cluster}" runs Cilium ${have.version ?? '(none)'}${sameVersion && !sameValues ? ' with other values' : ''}; installing Cilium ${version.text} with this run's values`,
        );
      }
    }
    this.useVersion(version.text);
    if (install) {
      this.progress(`installing Cilium ${version.text} with Helm`);
      try {
        await this.exec_.run(
          helmUpgradeInstallArgv({ chart, version: version.text, kubeconfig: this.opts.kubeconfig, values }),
          {
            timeoutMs: this.t.helmInstall,
            where: 'host',
          },
        );
      } catch (err) {
        throw await this.broken(
          `Installing Cilium ${version.text} with Helm failed on cluster "${this.kindOpts.cluster}"`,
          err,
        );
      }
      record.installed = true;
    }

    // 5. Readiness. On a reused cluster the agents are restarted after an upgrade: helm upgrade
    // alone leaves them running the old configuration (rollOutCiliumPods defaults to false).
    try {
      if (record.installed && !record.created) await this.restartAgents();
      await this.waitForCilium();
      await this.checkAgents();
    } catch (err) {
      throw await this.broken(`Cilium ${version.text} did not become ready on cluster "${this.kindOpts.cluster}"`, err);
    }
    this.provisioned = fingerprint;
    this.provisions.push(record);
  }

  /** `docker version`'s Server and `kind version`, as they print themselves (unreadable: said so). */
  private async readEngine(): Promise<string> {
    const read = async (argv: string[]) => {
      const res = await this.exec_
        .run(argv, { timeoutMs: this.t.dockerInfo, where: 'host', check: false })
        .catch((e: Error) => ({ exitCode: 1, stdout: '', stderr: e.message }));
      const text = (res.exitCode === 0 ? res.stdout : '').trim().split('\n')[0]?.trim();
      return text || `unreadable (${argv.join(' ')})`;
    };
    return `${await read(dockerServerArgv())}; ${await read(kindVersionArgv())}`;
  }

  /**
   * --kind-load: every image of the run that the local Docker has is copied into the nodes with
   * `kind load docker-image` (no registry pull on the nodes); the others are named, and pulled.
   */
  private async loadImages(): Promise<void> {
    for (const image of loadableImages(this.kindOpts.images)) {
      const have = await this.exec_.run(dockerImagePresentArgv(image), {
        timeoutMs: this.t.dockerInfo,
        where: 'host',
        check: false,
      });
      if (have.exitCode !== 0) {
        this.progress(`--kind-load: ${image} is not in the local Docker; the nodes will pull it`);
        continue;
      }
      this.progress(`--kind-load: loading ${image} into the nodes of "${this.kindOpts.cluster}"`);
      await this.exec_.run(kindLoadArgv(image, this.kindOpts.cluster), { timeoutMs: this.t.kindLoad, where: 'host' });
    }
  }

  /** Keep or delete the cluster per --keep/--reuse; always remove the run's namespace and lock. */
  override async teardown(): Promise<void> {
    let cleanup: unknown;
    try {
      if (this.clusterReady) await this.releaseRunResources();
    } catch (err) {
      cleanup = err;
    }
    const keep =
      !this.created ||
      this.kindOpts.reuse ||
      this.kindOpts.keep === 'always' ||
      (this.kindOpts.keep === 'on-failure' && this.failed);
    if (this.created && !keep) {
      this.progress(`deleting Kind cluster "${this.kindOpts.cluster}"`);
      await this.life.delete(this.kindOpts.cluster);
      rmSync(path.dirname(this.opts.kubeconfig), { recursive: true, force: true });
      this.created = false;
      this.clusterReady = false;
      this.provisioned = undefined;
    } else if (this.created) {
      this.progress(
        `keeping Kind cluster "${this.kindOpts.cluster}" (${this.kindOpts.reuse ? '--reuse' : `--keep ${this.kindOpts.keep}`}); delete it with \`hookpoint down --backend kind --cluster ${this.kindOpts.cluster}\``,
      );
    }
    if (cleanup) throw cleanup;
  }
}

/** Build the kind backend from the run's validated Config. */
export function createKindBackend(
  config: Config,
  deps: ClusterBackendDeps & { chart?: ChartSource } = {},
): KindBackend {
  if (config.backend !== 'kind')
    throw new InfraError(`internal: createKindBackend called for backend ${config.backend}.`);
  return new KindBackend(
    {
      cluster: config.cluster,
      k8sVersion: config.k8s,
      kindConfig: config.kindConfig,
      valuesFiles: config.valuesFiles,
      chart:
        deps.chart ??
        (process.env.HOOKPOINT_CILIUM_CHART
          ? { kind: 'local', path: process.env.HOOKPOINT_CILIUM_CHART }
          : { kind: 'repo' }),
      reuse: config.reuse,
      keep: config.keep,
      reportsDir: config.reportsDir,
      iptables: config.iptables,
      images: config.images,
      kindLoad: config.kindLoad,
    },
    deps,
  );
}

export { ClusterBackend } from '../k8s/cluster-backend.ts';
export { ProvisioningError } from '../k8s/failure-collectors.ts';
