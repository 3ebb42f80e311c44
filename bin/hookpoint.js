#!/usr/bin/env node
// Entry point: the CLI is TypeScript run by Node's own type stripping (Node >= 22.18).
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(
    `hookpoint: Node ${process.versions.node} is too old; Hookpoint needs Node 22.18 or newer. ` +
      'Run it through npm (`npx hookpoint …` or `npm run …`), which uses the Node 22 the project installs, or install Node 22.\n',
  );
  process.exit(3);
}
// Node's on-disk compile cache (os.tmpdir()/node-compile-cache) and the stripped TypeScript kept
// in Hookpoint's cache (support/strip-cache.js): the lab's agent stand-in is a short-lived
// `hookpoint lab agent` process per status read and monitor window, so start-up counts.
(await import('node:module')).enableCompileCache?.();
(await import('../support/strip-cache.js')).useStripCache();
const argv = process.argv.slice(2);
// `lab agent` (what every agent read of the lab runs) goes to the lab's agent server first: a thin
// client, as `cilium-dbg` is of a real agent. It answers undefined when the CLI must serve it.
const viaServer =
  argv[0] === 'lab' && argv[1] === 'agent'
    ? await (await import('../support/backends/lab/agent/client.ts')).agentThroughSocket(argv.slice(2))
    : undefined;
if (viaServer !== undefined) process.exitCode = viaServer;
else {
  const { main } = await import('../support/cli/main.ts');
  process.exitCode = await main(argv);
}
