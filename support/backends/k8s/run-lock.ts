/**
 * The cluster lock: a Kubernetes Lease, so two runs never use one cluster at once (counters and
 * trace buffers are node-global). Taken after the API answers, renewed while the run lives,
 * released at teardown; a lease not renewed within its duration is stale and may be taken over.
 */
import { hostname } from 'node:os';
import * as k8s from '@kubernetes/client-node';
import { InfraError } from '../../errors.ts';
import { type KubeApi, KubeApiError } from './kube-api.ts';

export const LOCK_NAMESPACE = 'kube-system';
export const LOCK_NAME = 'hookpoint-run-lock';
export const LOCK_DURATION_S = 60;

export function newHolderId(): string {
  return `hookpoint-${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

function toMs(t: unknown): number | undefined {
  if (t instanceof Date) return t.getTime();
  if (typeof t === 'string') {
    const ms = Date.parse(t);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
}

export interface LockState {
  holder: string;
  renewedAt?: number;
  durationS: number;
  /** True when renewTime + duration has passed. */
  stale: boolean;
}

export function lockState(lease: k8s.V1Lease, now: number): LockState | null {
  const holder = lease.spec?.holderIdentity;
  if (!holder) return null;
  const durationS = lease.spec?.leaseDurationSeconds ?? LOCK_DURATION_S;
  const renewedAt = toMs(lease.spec?.renewTime) ?? toMs(lease.spec?.acquireTime);
  return { holder, renewedAt, durationS, stale: renewedAt === undefined || renewedAt + durationS * 1000 < now };
}

function heldError(cluster: string, st: LockState, now: number): InfraError {
  const ago = st.renewedAt === undefined ? 'an unknown time' : `${Math.round((now - st.renewedAt) / 1000)} s`;
  return new InfraError(
    `Cluster "${cluster}" is in use by another Hookpoint run (${st.holder}, lock renewed ${ago} ago; Lease ${LOCK_NAMESPACE}/${LOCK_NAME}).`,
    {
      hint: `Wait for that run to finish (a dead run's lock goes stale after ${st.durationS} s), or use another --cluster name.`,
    },
  );
}

export class ClusterLock {
  private readonly api: KubeApi;
  private readonly cluster: string;
  readonly holder: string;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private held = false;

  constructor(api: KubeApi, cluster: string, opts: { holder?: string; now?: () => number } = {}) {
    this.api = api;
    this.cluster = cluster;
    this.holder = opts.holder ?? newHolderId();
    this.now = opts.now ?? Date.now;
  }

  isHeld(): boolean {
    return this.held;
  }

  private spec(acquire: unknown): k8s.V1LeaseSpec {
    const now = new k8s.V1MicroTime(this.now());
    const acquiredMs = toMs(acquire);
    return {
      holderIdentity: this.holder,
      leaseDurationSeconds: LOCK_DURATION_S,
      acquireTime: acquiredMs === undefined ? now : new k8s.V1MicroTime(acquiredMs),
      renewTime: now,
    };
  }

  /** Take the lock or throw an InfraError naming the run that holds it. */
  async acquire(attempt = 0): Promise<void> {
    if (attempt > 3)
      throw new InfraError(`Could not take the lock on cluster "${this.cluster}": the Lease kept changing under us.`);
    const existing = await this.api.readLease(LOCK_NAMESPACE, LOCK_NAME);
    if (!existing) {
      try {
        await this.api.createLease(LOCK_NAMESPACE, {
          metadata: {
            name: LOCK_NAME,
            namespace: LOCK_NAMESPACE,
            labels: { 'app.kubernetes.io/managed-by': 'hookpoint' },
          },
          spec: this.spec(undefined),
        });
      } catch (err) {
        if (err instanceof KubeApiError && err.status === 409) return this.acquire(attempt + 1);
        throw err;
      }
    } else {
      const st = lockState(existing, this.now());
      if (st && st.holder !== this.holder && !st.stale) throw heldError(this.cluster, st, this.now());
      try {
        await this.api.replaceLease(LOCK_NAMESPACE, { ...existing, spec: this.spec(undefined) });
      } catch (err) {
        // Someone else updated it between our read and write: read again and decide.
        if (err instanceof KubeApiError && err.status === 409) {
          const again = await this.api.readLease(LOCK_NAMESPACE, LOCK_NAME);
          const st2 = again ? lockState(again, this.now()) : null;
          if (st2 && st2.holder !== this.holder) throw heldError(this.cluster, st2, this.now());
          return this.acquire(attempt + 1);
        }
        throw err;
      }
    }
    this.held = true;
  }

  /** Renew periodically (a third of the duration) until released. */
  startRenewing(onError: (err: unknown) => void = () => {}): void {
    if (this.timer) return;
    this.timer = setInterval(
      () => {
        this.renew().catch(onError);
      },
      (LOCK_DURATION_S * 1000) / 3,
    );
    this.timer.unref();
  }

  async renew(): Promise<void> {
    const lease = await this.api.readLease(LOCK_NAMESPACE, LOCK_NAME);
    const st = lease ? lockState(lease, this.now()) : null;
    if (!lease || !st || st.holder !== this.holder) {
      this.held = false;
      throw new InfraError(`The lock on cluster "${this.cluster}" was lost (Lease ${LOCK_NAMESPACE}/${LOCK_NAME}).`);
    }
    await this.api.replaceLease(LOCK_NAMESPACE, { ...lease, spec: this.spec(lease.spec?.acquireTime) });
  }

  /** Release if we hold it (idempotent; another holder's lease is never deleted). */
  async release(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (!this.held) return;
    this.held = false;
    const lease = await this.api.readLease(LOCK_NAMESPACE, LOCK_NAME);
    if (lease && lease.spec?.holderIdentity === this.holder) await this.api.deleteLease(LOCK_NAMESPACE, LOCK_NAME);
  }
}

/** Who holds the lock right now, if anyone (for `hookpoint down`). */
export async function currentHolder(api: KubeApi, now = Date.now()): Promise<LockState | null> {
  const lease = await api.readLease(LOCK_NAMESPACE, LOCK_NAME);
  if (!lease) return null;
  const st = lockState(lease, now);
  return st && !st.stale ? st : null;
}
