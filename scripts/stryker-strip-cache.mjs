// Mutation runs start `node` once per test file per mutant, and Node strips the TypeScript of every
// module again each time: about 40 % of a test process's CPU. Stryker's instrumented sources do
// not change during a run (the active mutant is chosen at run time), so each module's stripped
// JavaScript is kept in the sandbox (`.strip-cache/`, removed with it), keyed by its content, and
// loaded from there by the CLI's own cache hook (support/strip-cache.js).
import path from 'node:path';
import { registerStripCache } from '../support/strip-cache.js';

registerStripCache(path.resolve('.strip-cache'));
