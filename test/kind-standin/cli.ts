/**
 * The stand-in's `docker`, `kind`, `helm` and `kubectl` (test/kind-standin/bin/* run this with
 * the tool's name first). Each answers the commands the kind backend runs the way the real tool
 * does (output shapes, exit codes, errors for unknown commands and flags) and says what it is
 * wherever the real tool states its identity (`docker version`, `docker info`, `kind version`).
 * Commands inside nodes and pods run in the lab's network namespaces with only their image's
 * programs (containers.ts); the cluster's objects live in its API server (apiserver.ts).
 */
import { spawn } from 'node:child_process';
import { openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execIn, imageHas, notFoundMessage } from './containers.ts';
import {
  type ClusterRecord,
  clusterDir,
  clusterOfKubeconfig,
  IDENTITY,
  kubeconfigText,
  listClusters,
  readCluster,
  readPods,
  STANDIN_DIR,
} from './state.ts';

const out = (s: string) => process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);
const err = (s: string) => process.stderr.write(s.endsWith('\n') ? s : `${s}\n`);

class Exit extends Error {
  readonly code: number;
  constructor(code: number, message = '') {
    super(message);
    this.code = code;
  }
}

/** Flags with a value; everything else is positional. Unknown flags are refused the tool's way. */
function parseArgs(
  argv: readonly string[],
  known: Record<string, 'value' | 'bool' | 'multi'>,
  unknown: (flag: string) => never,
): { pos: string[]; flags: Record<string, string>; multi: Record<string, string[]>; rest: string[] } {
  const pos: string[] = [];
  const flags: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') return { pos, flags, multi, rest: argv.slice(i + 1) };
    if (a.startsWith('-') && a !== '-') {
      const eq = a.indexOf('=');
      const name = eq > 0 ? a.slice(0, eq) : a;
      const kind = known[name];
      if (!kind) unknown(name);
      if (kind === 'bool') {
        flags[name] = eq > 0 ? a.slice(eq + 1) : 'true';
        continue;
      }
      const v = eq > 0 ? a.slice(eq + 1) : argv[++i];
      if (v === undefined) unknown(`${name} (needs an argument)`);
      if (kind === 'multi') multi[name] = [...(multi[name] ?? []), v!];
      else flags[name] = v!;
      continue;
    }
    pos.push(a);
  }
  return { pos, flags, multi, rest: [] };
}

// --- docker --------------------------------------------------------------------------------

const SERVER = {
  Platform: { Name: IDENTITY.engine },
  Version: IDENTITY.version,
  ApiVersion: '1.50',
  Os: 'linux',
  Arch: 'amd64',
  Components: [{ Name: 'Engine', Version: IDENTITY.version, Details: { Kernel: 'the lab (network namespaces)' } }],
};

/** The few Go-template forms the kind backend uses: {{.A.B}} and {{json .A}}. */
function template(fmt: string, data: unknown): string {
  return fmt.replace(/\{\{\s*(json\s+)?\.([\w.]*)\s*\}\}/g, (_, json: string | undefined, p: string) => {
    const v = p
      .split('.')
      .filter(Boolean)
      .reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], data);
    return json ? JSON.stringify(v ?? null) : v === undefined ? '<no value>' : String(v);
  });
}

function findNode(name: string): { cluster: ClusterRecord; node: ClusterRecord['nodes'][number] } | undefined {
  for (const c of listClusters()) {
    const node = c.nodes.find((n) => n.name === name);
    if (node) return { cluster: c, node };
  }
  return undefined;
}

async function docker(argv: string[]): Promise<number> {
  const unknown = (flag: string): never => {
    throw new Exit(125, `unknown flag: ${flag}\nSee 'docker ${argv[0] ?? ''} --help'.`);
  };
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'version': {
      const a = parseArgs(rest, { '--format': 'value', '-f': 'value' }, unknown);
      const fmt = a.flags['--format'] ?? a.flags['-f'];
      const data = { Client: { Version: 'standin', Os: 'linux', Arch: 'amd64' }, Server: SERVER };
      if (fmt) out(template(fmt, data));
      else
        out(
          [
            'Client:',
            ' Version:           standin',
            '',
            `Server: ${SERVER.Platform.Name}`,
            ' Engine:',
            `  Version:          ${SERVER.Version}`,
            `  API version:      ${SERVER.ApiVersion}`,
            '  OS/Arch:          linux/amd64',
          ].join('\n'),
        );
      return 0;
    }
    case 'info': {
      const a = parseArgs(rest, { '--format': 'value', '-f': 'value' }, unknown);
      const fmt = a.flags['--format'] ?? a.flags['-f'];
      const data = { ServerVersion: IDENTITY.version, Name: IDENTITY.engine, OperatingSystem: IDENTITY.engine };
      out(
        fmt
          ? template(fmt, data)
          : `Server:\n Server Version: ${IDENTITY.version}\n Operating System: ${IDENTITY.engine}`,
      );
      return 0;
    }
    case 'ps': {
      out('CONTAINER ID   IMAGE   COMMAND   CREATED   STATUS   PORTS   NAMES');
      for (const c of listClusters())
        for (const n of c.nodes)
          out(`${n.netns.slice(0, 12).padEnd(14)} ${c.nodeImage}   "/usr/local/bin/entrypoint"   Up   ${n.name}`);
      return 0;
    }
    case 'image': {
      if (rest[0] !== 'inspect') throw new Exit(1, `docker: 'image ${rest[0] ?? ''}' is not a docker command.`);
      const a = parseArgs(rest.slice(1), { '--format': 'value', '-f': 'value' }, unknown);
      // The stand-in has no image store: every image is absent, as on an engine that never pulled it.
      err(`Error response from daemon: No such image: ${a.pos[0] ?? ''}`);
      return 1;
    }
    case 'exec': {
      let i = 0;
      const opts: string[] = [];
      while (rest[i]?.startsWith('-')) opts.push(rest[i++]!);
      for (const o of opts) if (!['-i', '-t', '-it', '-ti', '--interactive', '--tty'].includes(o)) unknown(o);
      const name = rest[i];
      const command = rest.slice(i + 1);
      if (!name || command.length === 0) throw new Exit(1, '"docker exec" requires at least 2 arguments.');
      const found = findNode(name);
      if (!found) throw new Exit(1, `Error response from daemon: No such container: ${name}`);
      const c = {
        netns: found.node.netns,
        image: 'kind-node' as const,
        bin: path.join(clusterDir(found.cluster.name), 'images', 'kind-node'),
        nodeInit: found.node.init,
      };
      if (found.node.init === undefined)
        throw new Exit(1, `Error response from daemon: container ${name} is not running`);
      if (!imageHas(c, command[0]!)) throw new Exit(126, notFoundMessage(command[0]!));
      return execIn(c, command, name);
    }
    default:
      throw new Exit(1, `docker: '${cmd ?? ''}' is not a docker command.\nSee 'docker --help'`);
  }
}

// --- kind ----------------------------------------------------------------------------------

function waitFor(check: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  return new Promise((resolve) => {
    const tick = () => {
      if (check()) return resolve(true);
      if (Date.now() > end) return resolve(false);
      setTimeout(tick, 100);
    };
    tick();
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function kind(argv: string[]): Promise<number> {
  const unknown = (flag: string): never => {
    throw new Exit(1, `ERROR: unknown flag: ${flag}`);
  };
  const [cmd, what, ...rest] = argv;
  if (cmd === 'version') {
    out(`kind ${IDENTITY.kind} go1.20.4 linux/amd64 (${IDENTITY.engine} ${IDENTITY.version})`);
    return 0;
  }
  const key = `${cmd ?? ''} ${what ?? ''}`;
  switch (key) {
    case 'get clusters': {
      const names = listClusters().map((c) => c.name);
      if (names.length) out(names.join('\n'));
      else err('No kind clusters found.');
      return 0;
    }
    case 'get nodes': {
      const a = parseArgs(rest, { '--name': 'value' }, unknown);
      const c = readCluster(a.flags['--name'] ?? 'kind');
      if (!c) err(`No kind nodes found for cluster "${a.flags['--name'] ?? 'kind'}".`);
      else out(c.nodes.map((n) => n.name).join('\n'));
      return 0;
    }
    case 'create cluster': {
      const a = parseArgs(
        rest,
        {
          '--name': 'value',
          '--image': 'value',
          '--config': 'value',
          '--kubeconfig': 'value',
          '--wait': 'value',
          '--retain': 'bool',
        },
        unknown,
      );
      const name = a.flags['--name'] ?? 'kind';
      if (readCluster(name))
        throw new Exit(
          1,
          `ERROR: failed to create cluster: node(s) already exist for a cluster with the name "${name}"`,
        );
      const config = a.flags['--config'];
      if (!config) throw new Exit(1, 'ERROR: the kind stand-in needs --config (the kind config the lab is built from)');
      const image = a.flags['--image'] ?? `kindest/node:${IDENTITY.kind}`;
      err(`Creating cluster "${name}" ...\n ✓ Ensuring node image (${image.split('@')[0]}) 🖼`);
      const dir = clusterDir(name);
      const { mkdirSync } = await import('node:fs');
      mkdirSync(dir, { recursive: true });
      const logFd = openSync(path.join(dir, 'apiserver.log'), 'a');
      const k8s = /:(v\d+\.\d+\.\d+)/.exec(image)?.[1] ?? 'v1.27.3';
      const child = spawn(
        process.execPath,
        [
          path.join(STANDIN_DIR, 'apiserver.ts'),
          '--cluster',
          name,
          '--config',
          path.resolve(config),
          '--image',
          image,
          '--k8s',
          k8s,
        ],
        { detached: true, stdio: ['ignore', logFd, logFd] },
      );
      child.unref();
      const up = await waitFor(() => readCluster(name)?.pid === child.pid || child.exitCode !== null, 30_000);
      const c = readCluster(name);
      if (!up || !c) {
        const tail = readFileSync(path.join(dir, 'apiserver.log'), 'utf8').trim().split('\n').slice(-5).join('\n');
        rmSync(dir, { recursive: true, force: true });
        throw new Exit(1, ` ✗ Preparing nodes 📦\nERROR: failed to create cluster: ${tail}`);
      }
      const kubeconfig = a.flags['--kubeconfig'];
      if (kubeconfig) writeFileSync(kubeconfig, kubeconfigText(c));
      err(
        [
          ` ✓ Preparing nodes ${c.nodes.map(() => '📦').join(' ')}`,
          ' ✓ Writing configuration 📜',
          ' ✓ Starting control-plane 🕹️',
          ' ✓ Installing StorageClass 💾',
          ...(c.nodes.length > 1 ? [' ✓ Joining worker nodes 🚜'] : []),
          `Set kubectl context to "kind-${name}"`,
          'You can now use your cluster with:',
          '',
          `kubectl cluster-info --context kind-${name}${kubeconfig ? ` --kubeconfig ${kubeconfig}` : ''}`,
          '',
          `Note: this cluster is ${IDENTITY.engine}.`,
        ].join('\n'),
      );
      return 0;
    }
    case 'delete cluster': {
      const a = parseArgs(rest, { '--name': 'value', '--kubeconfig': 'value' }, unknown);
      const name = a.flags['--name'] ?? 'kind';
      err(`Deleting cluster "${name}" ...`);
      const c = readCluster(name);
      if (!c) return 0;
      if (alive(c.pid)) {
        process.kill(c.pid, 'SIGTERM');
        if (!(await waitFor(() => !alive(c.pid), 120_000)))
          throw new Exit(1, `ERROR: failed to delete cluster "${name}": its nodes did not stop`);
      }
      rmSync(clusterDir(name), { recursive: true, force: true });
      err(`Deleted nodes: [${c.nodes.map((n) => `"${n.name}"`).join(' ')}]`);
      return 0;
    }
    case 'export kubeconfig': {
      const a = parseArgs(rest, { '--name': 'value', '--kubeconfig': 'value' }, unknown);
      const name = a.flags['--name'] ?? 'kind';
      const c = readCluster(name);
      if (!c)
        throw new Exit(
          1,
          `ERROR: could not locate any control plane nodes for cluster named '${name}'. Use the --name option to select a different cluster`,
        );
      writeFileSync(
        a.flags['--kubeconfig'] ?? path.join(process.env.HOME ?? '/root', '.kube', 'config'),
        kubeconfigText(c),
      );
      err(`Set kubectl context to "kind-${name}"`);
      return 0;
    }
    case 'load docker-image': {
      const a = parseArgs(rest, { '--name': 'value', '--nodes': 'value' }, unknown);
      throw new Exit(1, `ERROR: image: "${a.pos[0] ?? ''}" not present locally`);
    }
    default:
      throw new Exit(1, `ERROR: unknown command "${[cmd, what].filter(Boolean).join(' ')}" for "kind"`);
  }
}

// --- the API, for helm and kubectl ----------------------------------------------------------

async function apiCall(
  c: ClusterRecord,
  method: string,
  p: string,
  body?: unknown,
  // biome-ignore lint/suspicious/noExplicitAny: Kubernetes objects are free-form JSON here
): Promise<{ status: number; json: any }> {
  const res = await fetch(`${c.url}${p}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

function clusterFor(kubeconfig: string | undefined, tool: string): ClusterRecord {
  const file = kubeconfig ?? process.env.KUBECONFIG;
  const c = file ? clusterOfKubeconfig(file) : undefined;
  if (!c)
    throw new Exit(
      1,
      tool === 'helm'
        ? 'Error: Kubernetes cluster unreachable: the server could not find the requested resource'
        : 'The connection to the server localhost:8080 was refused - did you specify the right host or port?',
    );
  return c;
}

// --- helm ----------------------------------------------------------------------------------

const CHART_VALUES = path.join(STANDIN_DIR, 'chart-values.yaml');

/** helm's --set type rules: true/false are booleans, integers are numbers, the rest strings. */
function typed(v: string): unknown {
  if (v === 'true' || v === 'false') return v === 'true';
  if (/^-?\d+$/.test(v) && String(Number(v)) === v) return Number(v);
  return v;
}

function nest(flat: Record<string, string>): Record<string, unknown> {
  const outObj: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(flat)) {
    const parts = k.split('.');
    let o = outObj;
    for (const p of parts.slice(0, -1)) {
      o[p] ??= {};
      o = o[p] as Record<string, unknown>;
    }
    o[parts.at(-1)!] = typed(v);
  }
  return outObj;
}

async function helm(argv: string[]): Promise<number> {
  const unknown = (flag: string): never => {
    throw new Exit(1, `Error: unknown flag: ${flag}`);
  };
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'version':
      parseArgs(rest, { '--short': 'bool', '--template': 'value' }, unknown);
      out('v3.14.4+g81c902a');
      return 0;
    case 'repo': {
      const [sub, ...r] = rest;
      if (sub === 'add') {
        const a = parseArgs(r, { '--force-update': 'bool' }, unknown);
        out(`"${a.pos[0]}" has been added to your repositories`);
        return 0;
      }
      if (sub === 'update') {
        const a = parseArgs(r, {}, unknown);
        out(
          `Hang tight while we grab the latest from your chart repositories...\n...Successfully got an update from the "${a.pos[0] ?? 'cilium'}" chart repository\nUpdate Complete. ⎈Happy Helming!⎈`,
        );
        return 0;
      }
      throw new Exit(1, `Error: unknown command "${sub ?? ''}" for "helm repo"`);
    }
    case 'show': {
      const [sub, ...r] = rest;
      if (sub !== 'values') throw new Exit(1, `Error: unknown command "${sub ?? ''}" for "helm show"`);
      parseArgs(r, { '--version': 'value' }, unknown);
      out(readFileSync(CHART_VALUES, 'utf8'));
      return 0;
    }
    case 'upgrade': {
      const a = parseArgs(
        rest,
        {
          '--install': 'bool',
          '--version': 'value',
          '--namespace': 'value',
          '--kubeconfig': 'value',
          '--kube-context': 'value',
          '--set': 'multi',
          '--wait': 'bool',
        },
        unknown,
      );
      const [release, chart] = a.pos;
      if (!release || !chart) throw new Exit(1, 'Error: "helm upgrade" requires 2 arguments');
      const c = clusterFor(a.flags['--kubeconfig'], 'helm');
      const ns = a.flags['--namespace'] ?? 'default';
      const values: Record<string, string> = {};
      for (const s of a.multi['--set'] ?? []) {
        const eq = s.indexOf('=');
        if (eq < 1) throw new Exit(1, `Error: failed parsing --set data: key "${s}" has no value`);
        values[s.slice(0, eq)] = s.slice(eq + 1);
      }
      const list = await apiCall(c, 'GET', `/api/v1/namespaces/${ns}/secrets?labelSelector=owner=helm,name=${release}`);
      const revision = (list.json.items?.length ?? 0) + 1;
      if (revision === 1 && !a.flags['--install'])
        throw new Exit(1, `Error: UPGRADE FAILED: "${release}" has no deployed releases`);
      const version = a.flags['--version'] ?? '1.17.15';
      const secret = `sh.helm.release.v1.${release}.v${revision}`;
      const made = await apiCall(c, 'POST', `/api/v1/namespaces/${ns}/secrets`, {
        apiVersion: 'v1',
        kind: 'Secret',
        type: 'helm.sh/release.v1',
        metadata: {
          name: secret,
          labels: { owner: 'helm', name: release, version: String(revision), status: 'pending-install' },
        },
        data: {
          release: Buffer.from(JSON.stringify({ version: version.replace(/^v/, ''), values })).toString('base64'),
        },
      });
      if (made.status >= 300) throw new Exit(1, `Error: INSTALLATION FAILED: ${made.json.message}`);
      if (revision === 1) out(`Release "${release}" does not exist. Installing it now.`);
      // The stand-in's "chart" is the lab: wait for it, so a refused value fails the install here.
      let status = 'pending-install';
      let why = '';
      for (let i = 0; i < 1200 && status === 'pending-install'; i++) {
        await new Promise((r) => setTimeout(r, 250));
        const s = await apiCall(c, 'GET', `/api/v1/namespaces/${ns}/secrets/${secret}`);
        status = s.json.metadata?.labels?.status ?? 'unknown';
        why = s.json.metadata?.annotations?.['hookpoint.io/standin-error'] ?? '';
      }
      if (status !== 'deployed')
        throw new Exit(1, `Error: ${revision === 1 ? 'INSTALLATION' : 'UPGRADE'} FAILED: ${why || status}`);
      out(
        [
          revision === 1 ? '' : `Release "${release}" has been upgraded. Happy Helming!`,
          `NAME: ${release}`,
          `LAST DEPLOYED: ${new Date().toUTCString()}`,
          `NAMESPACE: ${ns}`,
          'STATUS: deployed',
          `REVISION: ${revision}`,
          'TEST SUITE: None',
          'NOTES:',
          `You have successfully installed Cilium with the kind stand-in (${IDENTITY.engine}).`,
        ]
          .filter(Boolean)
          .join('\n'),
      );
      return 0;
    }
    case 'get': {
      const [sub, ...r] = rest;
      if (sub !== 'values') throw new Exit(1, `Error: unknown command "${sub ?? ''}" for "helm get"`);
      const a = parseArgs(
        r,
        {
          '--namespace': 'value',
          '--output': 'value',
          '-o': 'value',
          '--kubeconfig': 'value',
          '--kube-context': 'value',
        },
        unknown,
      );
      const c = clusterFor(a.flags['--kubeconfig'], 'helm');
      const ns = a.flags['--namespace'] ?? 'default';
      const list = await apiCall(
        c,
        'GET',
        `/api/v1/namespaces/${ns}/secrets?labelSelector=owner=helm,name=${a.pos[0]}`,
      );
      const items = (list.json.items ?? []) as Array<{
        metadata: { labels: { version: string } };
        data: { release: string };
      }>;
      const last = items.sort((x, y) => Number(y.metadata.labels.version) - Number(x.metadata.labels.version))[0];
      if (!last) throw new Exit(1, 'Error: release: not found');
      const values = nest(JSON.parse(Buffer.from(last.data.release, 'base64').toString()).values);
      const fmt = a.flags['--output'] ?? a.flags['-o'] ?? 'table';
      if (fmt === 'json') out(JSON.stringify(values));
      else out(`USER-SUPPLIED VALUES:\n${JSON.stringify(values, null, 2)}`);
      return 0;
    }
    default:
      throw new Exit(1, `Error: unknown command "${cmd ?? ''}" for "helm"\nRun 'helm --help' for usage.`);
  }
}

// --- kubectl -------------------------------------------------------------------------------

async function kubectl(argv: string[]): Promise<number> {
  const unknown = (flag: string): never => {
    throw new Exit(1, `error: unknown flag: ${flag}\nSee 'kubectl --help' for usage.`);
  };
  const a = parseArgs(
    argv,
    {
      '--kubeconfig': 'value',
      '--context': 'value',
      '--namespace': 'value',
      '-n': 'value',
      '--container': 'value',
      '-c': 'value',
      '-i': 'bool',
      '--stdin': 'bool',
      '-t': 'bool',
      '--client': 'bool',
      '--request-timeout': 'value',
      '--tail': 'value',
      '--timestamps': 'bool',
      '--sort-by': 'value',
      '-l': 'value',
      '--selector': 'value',
      '--all-containers': 'bool',
      '--prefix': 'bool',
      '-o': 'value',
      '--output': 'value',
      '--wait': 'value',
      '--timeout': 'value',
      '--for': 'value',
      '--all': 'bool',
    },
    unknown,
  );
  const [cmd, ...pos] = a.pos;
  const ns = a.flags['--namespace'] ?? a.flags['-n'] ?? 'default';
  switch (cmd) {
    case 'version':
      out('Client Version: v1.27.3-standin\nKustomize Version: v5.0.1');
      if (!a.flags['--client']) out(`Server Version: v1.27.3 (${IDENTITY.engine})`);
      return 0;
    case 'exec': {
      const c = clusterFor(a.flags['--kubeconfig'], 'kubectl');
      const podName = pos[0];
      if (!podName || a.rest.length === 0)
        throw new Exit(1, 'error: you must specify at least one command for the container');
      const pod = readPods(c.name)[`${ns}/${podName}`];
      if (!pod) throw new Exit(1, `Error from server (NotFound): pods "${podName}" not found`);
      const names = Object.keys(pod.containers);
      const cname = a.flags['--container'] ?? a.flags['-c'] ?? names[0]!;
      const container = pod.containers[cname];
      if (!container) throw new Exit(1, `error: container ${cname} is not valid for pod ${podName}`);
      const tool = a.rest[0]!;
      if (!imageHas(container, tool)) {
        err(
          `error: Internal error occurred: error executing command in container: failed to exec in container: failed to start exec: ${notFoundMessage(tool)}`,
        );
        return 126;
      }
      const code = await execIn(container, a.rest, podName);
      if (code !== 0) err(`command terminated with exit code ${code}`);
      return code;
    }
    case 'logs': {
      const c = clusterFor(a.flags['--kubeconfig'], 'kubectl');
      const pod = readPods(c.name)[`${ns}/${pos[0]}`];
      if (!pod) throw new Exit(1, `Error from server (NotFound): pods "${pos[0]}" not found`);
      out(`level=info msg="the kind stand-in keeps no container logs (${IDENTITY.engine})" subsys=standin`);
      return 0;
    }
    case 'get': {
      clusterFor(a.flags['--kubeconfig'], 'kubectl');
      if (pos[0] !== 'events')
        throw new Exit(1, `error: the kind stand-in's kubectl reads events only, not "${pos[0]}"`);
      err(`No resources found in ${ns} namespace.`);
      return 0;
    }
    case 'describe': {
      const c = clusterFor(a.flags['--kubeconfig'], 'kubectl');
      const sel = a.flags['-l'] ?? a.flags['--selector'];
      const list = await apiCall(
        c,
        'GET',
        `/api/v1/namespaces/${ns}/pods${sel ? `?labelSelector=${encodeURIComponent(sel)}` : ''}`,
      );
      for (const p of list.json.items ?? [])
        out(
          [
            `Name:         ${p.metadata.name}`,
            `Namespace:    ${ns}`,
            `Node:         ${p.spec.nodeName}/${p.status.hostIP ?? ''}`,
            `Status:       ${p.status.phase}`,
            `IP:           ${p.status.podIP ?? ''}`,
            '',
          ].join('\n'),
        );
      return 0;
    }
    case 'rollout': {
      const c = clusterFor(a.flags['--kubeconfig'], 'kubectl');
      if (pos[0] !== 'restart' || !pos[1]?.startsWith('daemonset/'))
        throw new Exit(1, `error: the kind stand-in's kubectl rolls out daemonsets only`);
      const name = pos[1].slice('daemonset/'.length);
      const got = await apiCall(c, 'GET', `/apis/apps/v1/namespaces/${ns}/daemonsets/${name}`);
      if (got.status !== 200) throw new Exit(1, `Error from server (NotFound): daemonsets.apps "${name}" not found`);
      out(`daemonset.apps/${name} restarted`);
      return 0;
    }
    default:
      throw new Exit(1, `error: unknown command "${cmd ?? ''}" for "kubectl"`);
  }
}

// --- main ----------------------------------------------------------------------------------

const tools: Record<string, (argv: string[]) => Promise<number>> = { docker, kind, helm, kubectl };
const [tool, ...args] = process.argv.slice(2);
const fn = tools[tool ?? ''];
if (!fn) {
  err(`kind stand-in: unknown tool ${tool}`);
  process.exit(2);
}
try {
  process.exitCode = await fn(args);
} catch (e) {
  if (e instanceof Exit) {
    if (e.message) err(e.message);
    process.exitCode = e.code;
  } else {
    err(`${tool}: ${(e as Error).message}`);
    process.exitCode = 1;
  }
}
