/**
 * Test support: a small in-memory Kubernetes API server on 127.0.0.1 (node:http, loopback
 * only) for @kubernetes/client-node calls. Generic create/read/replace/delete/list of
 * namespaced and cluster resources with resourceVersion conflicts, label and field selectors,
 * Status bodies like the real API server, a request log for request-shape assertions, hooks
 * that play controllers (a Deployment gets a Ready pod), and fault injection (status codes,
 * requests that are accepted and never answered).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LoggedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  body: unknown;
  contentType: string | undefined;
  authorization: string | undefined;
}

// biome-ignore lint/suspicious/noExplicitAny: untyped Kubernetes objects in a test double
type Obj = Record<string, any>;
type Hook = (obj: Obj, server: FakeApiServer) => void;

interface ResourcePath {
  /** "api/v1" or "apis/apps/v1". */
  groupVersion: string;
  namespace?: string;
  resource: string;
  name?: string;
}

export function parseResourcePath(p: string): ResourcePath | null {
  const m = /^\/(api\/v1|apis\/[^/]+\/[^/]+)\/(?:namespaces\/([^/]+)\/)?([^/]+)(?:\/([^/]+))?$/.exec(p);
  if (!m) return null;
  // "/api/v1/namespaces/x" is the namespace x itself (cluster-scoped "namespaces" resource).
  if (m[2] === undefined && m[3] === 'namespaces') return { groupVersion: m[1]!, resource: 'namespaces', name: m[4] };
  if (m[2] !== undefined && m[4] === undefined && m[3] !== undefined)
    return { groupVersion: m[1]!, namespace: m[2], resource: m[3] };
  return { groupVersion: m[1]!, namespace: m[2], resource: m[3]!, name: m[4] };
}

function matchLabels(obj: Obj, selector: string | null): boolean {
  if (!selector) return true;
  const labels = obj.metadata?.labels ?? {};
  return selector.split(',').every((term) => {
    const [k, v] = term.split('=');
    return labels[k!.trim()] === v?.trim();
  });
}

function fieldOf(obj: Obj, path: string): unknown {
  return path.split('.').reduce<unknown>((o, k) => (o == null ? undefined : (o as Obj)[k]), obj);
}

function matchFields(obj: Obj, selector: string | null): boolean {
  if (!selector) return true;
  return selector.split(',').every((term) => {
    const [k, v] = term.split('=');
    return String(fieldOf(obj, k!.trim())) === v?.trim();
  });
}

function kindOf(resource: string): string {
  const map: Record<string, string> = {
    pods: 'Pod',
    services: 'Service',
    namespaces: 'Namespace',
    nodes: 'Node',
    deployments: 'Deployment',
    daemonsets: 'DaemonSet',
    leases: 'Lease',
    endpointslices: 'EndpointSlice',
    ciliumendpoints: 'CiliumEndpoint',
    ciliumnodes: 'CiliumNode',
    events: 'Event',
    secrets: 'Secret',
    networkpolicies: 'NetworkPolicy',
    ciliumnetworkpolicies: 'CiliumNetworkPolicy',
  };
  return map[resource] ?? 'Unknown';
}

export class FakeApiServer {
  readonly requests: LoggedRequest[] = [];
  private readonly store = new Map<string, Map<string, Obj>>();
  private readonly hooks = new Map<string, Hook[]>();
  private readonly deleteHooks = new Map<string, Hook[]>();
  private readonly faults: Array<{ method: string; pathRe: RegExp; status?: number; hang?: boolean; times: number }> =
    [];
  private rv = 100;
  private server: Server | undefined;
  private readonly hanging = new Set<ServerResponse>();
  url = '';

  private coll(gv: string, resource: string, ns?: string): Map<string, Obj> {
    const key = `${gv}|${ns ?? ''}|${resource}`;
    let m = this.store.get(key);
    if (!m) {
      m = new Map();
      this.store.set(key, m);
    }
    return m;
  }

  /** Put an object directly (test setup / controller hooks). */
  put(gv: string, resource: string, obj: Obj): Obj {
    const ns = obj.metadata?.namespace;
    obj.metadata ??= {};
    obj.metadata.resourceVersion = String(++this.rv);
    obj.metadata.uid ??= randomUUID();
    obj.metadata.generation ??= 1;
    this.coll(gv, resource, ns).set(obj.metadata.name, obj);
    return obj;
  }

  get(gv: string, resource: string, name: string, ns?: string): Obj | undefined {
    return this.coll(gv, resource, ns).get(name);
  }

  list(gv: string, resource: string, ns?: string): Obj[] {
    return [...this.coll(gv, resource, ns).values()];
  }

  /** Remove an object directly (a controller replacing pods). */
  remove(gv: string, resource: string, name: string, ns?: string): boolean {
    return this.coll(gv, resource, ns).delete(name);
  }

  /** Run fn after an object of this resource is created through the API. */
  onCreate(resource: string, fn: Hook): this {
    const l = this.hooks.get(resource) ?? [];
    l.push(fn);
    this.hooks.set(resource, l);
    return this;
  }

  /** Run fn after an object of this resource is deleted through the API (a namespace: its objects are gone too). */
  onDelete(resource: string, fn: Hook): this {
    const l = this.deleteHooks.get(resource) ?? [];
    l.push(fn);
    this.deleteHooks.set(resource, l);
    return this;
  }

  /** Answer matching requests with an error status, or accept them and never answer (hang). */
  fault(method: string, pathRe: RegExp, f: { status?: number; hang?: boolean; times?: number }): this {
    this.faults.push({ method, pathRe, status: f.status, hang: f.hang, times: f.times ?? Number.POSITIVE_INFINITY });
    return this;
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err) => {
        this.send(res, 500, this.status(500, 'InternalError', String(err)));
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    const { port } = this.server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    for (const r of this.hanging) r.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  /** A kubeconfig (YAML) pointing at this server. */
  kubeconfig(context = 'kind-fake'): string {
    return [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      `- name: ${context}`,
      '  cluster:',
      `    server: ${this.url}`,
      // client-node 2.x refuses plain http unless TLS verification is explicitly off.
      '    insecure-skip-tls-verify: true',
      'contexts:',
      `- name: ${context}`,
      '  context:',
      `    cluster: ${context}`,
      `    user: ${context}`,
      `current-context: ${context}`,
      'users:',
      `- name: ${context}`,
      '  user:',
      '    token: fake-token',
      '',
    ].join('\n');
  }

  private status(code: number, reason: string, message: string, details?: Obj): Obj {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message,
      reason,
      ...(details ? { details } : {}),
      code,
    };
  }

  private send(res: ServerResponse, code: number, body: unknown): void {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = text;
    }
    const method = req.method ?? 'GET';
    this.requests.push({
      method,
      path: url.pathname,
      query: url.searchParams,
      // a copy: the stored object is mutated (resourceVersion, controllers) after logging
      body: body === undefined ? undefined : structuredClone(body),
      contentType: req.headers['content-type'],
      authorization: req.headers.authorization,
    });
    for (const f of this.faults) {
      if (f.times > 0 && f.method === method && f.pathRe.test(url.pathname)) {
        f.times--;
        if (f.hang) {
          this.hanging.add(res);
          return;
        }
        const reason = f.status === 403 ? 'Forbidden' : f.status === 409 ? 'Conflict' : 'InternalError';
        return this.send(res, f.status!, this.status(f.status!, reason, `injected ${f.status} for ${url.pathname}`));
      }
    }
    const rp = parseResourcePath(url.pathname);
    if (!rp) return this.send(res, 404, this.status(404, 'NotFound', `the server could not find ${url.pathname}`));
    const coll = this.coll(rp.groupVersion, rp.resource, rp.namespace);
    const kind = kindOf(rp.resource);
    // As the API server names a resource in its errors: GroupResource.String(), "pods" or "networkpolicies.networking.k8s.io".
    const group = rp.groupVersion === 'api/v1' ? '' : rp.groupVersion.split('/')[1]!;
    const qualified = group ? `${rp.resource}.${group}` : rp.resource;
    // StatusDetails: Kind holds the resource (k8s.io/apimachinery errors.NewNotFound, the registry's finalizeDelete).
    const details = (name: string, uid?: string) => ({ name, group, kind: rp.resource, ...(uid ? { uid } : {}) });
    const notFound = () =>
      this.send(res, 404, this.status(404, 'NotFound', `${qualified} "${rp.name}" not found`, details(rp.name!)));
    if (method === 'GET' && rp.name) {
      const o = coll.get(rp.name);
      return o ? this.send(res, 200, o) : notFound();
    }
    if (method === 'GET') {
      const items = [...coll.values()].filter(
        (o) =>
          matchLabels(o, url.searchParams.get('labelSelector')) &&
          matchFields(o, url.searchParams.get('fieldSelector')),
      );
      return this.send(res, 200, {
        kind: `${kind}List`,
        apiVersion: 'v1',
        metadata: { resourceVersion: String(this.rv) },
        items,
      });
    }
    if (method === 'POST') {
      const o = body as Obj;
      const name = o?.metadata?.name;
      if (!name) return this.send(res, 422, this.status(422, 'Invalid', 'metadata.name: Required value'));
      if (coll.has(name))
        return this.send(
          res,
          409,
          this.status(409, 'AlreadyExists', `${qualified} "${name}" already exists`, details(name)),
        );
      if (rp.namespace) o.metadata.namespace = rp.namespace;
      o.metadata.creationTimestamp ??= new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      const created = this.put(rp.groupVersion, rp.resource, o);
      for (const h of this.hooks.get(rp.resource) ?? []) h(created, this);
      return this.send(res, 201, created);
    }
    if (method === 'PUT' && rp.name) {
      const cur = coll.get(rp.name);
      if (!cur) return notFound();
      const o = body as Obj;
      if (o?.metadata?.resourceVersion && o.metadata.resourceVersion !== cur.metadata.resourceVersion)
        return this.send(
          res,
          409,
          this.status(
            409,
            'Conflict',
            `Operation cannot be fulfilled on ${rp.resource} "${rp.name}": the object has been modified`,
          ),
        );
      return this.send(res, 200, this.put(rp.groupVersion, rp.resource, o));
    }
    if (method === 'DELETE' && rp.name) {
      const cur = coll.get(rp.name);
      if (!cur) return notFound();
      coll.delete(rp.name);
      if (rp.resource === 'namespaces') for (const [key, m] of this.store) if (key.split('|')[1] === rp.name) m.clear();
      for (const h of this.deleteHooks.get(rp.resource) ?? []) h(cur, this);
      // Without ReturnDeletedObject (e.g. networkpolicies, custom resources) the registry answers a
      // Status naming what was deleted.
      return this.send(res, 200, {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Success',
        details: details(rp.name, cur.metadata?.uid),
      });
    }
    return this.send(res, 405, this.status(405, 'MethodNotAllowed', `${method} ${url.pathname}`));
  }
}
