/**
 * Compile the lab's eBPF program (lab_lb.c) with clang at first use, cached by source hash:
 * `<stateDir>/bpf/<hash>/lab_lb.o`. The hash covers the source text and the clang arguments
 * (the datapath mode's defines among them), so a changed program, flag or mode never reuses a
 * stale object.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EnvironmentError, InfraError } from '../../../errors.ts';
import { run } from '../../../exec/index.ts';

/** Path of the program's C source in the repository. */
export const LAB_PROGRAM_SOURCE = fileURLToPath(new URL('./lab_lb.c', import.meta.url));
/** Kube-proxy replacement's programs (socket LB, NodePort at eth0), built only in that mode. */
export const LAB_KPR_SOURCE = fileURLToPath(new URL('./lab_kpr.c', import.meta.url));

const MULTIARCH: Record<string, string> = {
  x64: 'x86_64-linux-gnu',
  arm64: 'aarch64-linux-gnu',
  arm: 'arm-linux-gnueabihf',
  ppc64: 'powerpc64le-linux-gnu',
  s390x: 's390x-linux-gnu',
  riscv64: 'riscv64-linux-gnu',
};

/** What the object is built for: sections of lab_lb.c compiled in only for a mode. */
export interface ProgramOptions {
  /** VXLAN tunnel mode: cilium_tunnel_map, cil_from_host, cil_from_overlay (-DLAB_TUNNEL). */
  tunnel?: boolean;
}

/** The -D flags of a mode (pure): none for the seed's native routing. */
export function programDefines(opts: ProgramOptions = {}): string[] {
  return opts.tunnel ? ['-DLAB_TUNNEL'] : [];
}

/** clang arguments (without input/output). `-target bpf` does not search the multiarch include dir for asm/. */
export function clangArgs(opts: ProgramOptions = {}): string[] {
  const args = ['-O2', '-g', '-target', 'bpf', '-Wall', '-Wno-unused-function', ...programDefines(opts)];
  const multiarch = MULTIARCH[process.arch];
  if (multiarch && existsSync(`/usr/include/${multiarch}`)) args.push('-I', `/usr/include/${multiarch}`);
  return args;
}

export interface CompiledProgram {
  objectPath: string;
  hash: string;
  /** True when the object came from the cache (no clang run). */
  cached: boolean;
  durationMs: number;
}

/**
 * The text the object is built from: the source followed by each header it includes with
 * `#include "…"` (the lab's own, beside it; lab_common.h), recursively, each once. A changed
 * header must change the cache key as a changed source does.
 */
export function sourceText(sourcePath: string, seen = new Set<string>()): string {
  seen.add(sourcePath);
  const text = readFileSync(sourcePath, 'utf8');
  const headers = [...text.matchAll(/^#include "([^"]+)"/gm)].map((m) => join(dirname(sourcePath), m[1]!));
  return [text, ...headers.filter((h) => !seen.has(h)).map((h) => sourceText(h, seen))].join('\0');
}

/** sha256 of source + arguments, first 16 hex digits. */
export function programHash(source: string, args: readonly string[]): string {
  return createHash('sha256').update(source).update('\0').update(args.join('\0')).digest('hex').slice(0, 16);
}

/**
 * Return the compiled object for the current source, compiling it into
 * `<stateDir>/bpf/<hash>/lab_lb.o` when it is not there yet.
 */
export async function compileLabProgram(opts: {
  stateDir: string;
  sourcePath?: string;
  /** Build options (`-D` names) of the mode being built: part of the cache key. */
  defines?: readonly string[];
  timeoutMs?: number;
  /** The datapath mode's compile-time options (part of the cache key through the arguments). */
  program?: ProgramOptions;
}): Promise<CompiledProgram> {
  const started = Date.now();
  const sourcePath = opts.sourcePath ?? LAB_PROGRAM_SOURCE;
  const source = sourceText(sourcePath);
  const args = [...clangArgs(opts.program), ...(opts.defines ?? []).map((d) => `-D${d}`)];
  const hash = programHash(source, args);
  const dir = join(opts.stateDir, 'bpf', hash);
  const objectPath = join(dir, `${basename(sourcePath, '.c')}.o`);
  if (existsSync(objectPath)) return { objectPath, hash, cached: true, durationMs: Date.now() - started };
  mkdirSync(dir, { recursive: true });
  const tmp = `${objectPath}.tmp-${process.pid}`;
  let res: Awaited<ReturnType<typeof run>>;
  try {
    res = await run(['clang', ...args, '-c', sourcePath, '-o', tmp], {
      timeoutMs: opts.timeoutMs ?? 60_000,
      where: 'host',
      check: false,
    });
  } catch (err) {
    if (err instanceof InfraError && /not installed or not on PATH/.test(err.message))
      throw new EnvironmentError(
        'The lab compiles its eBPF datapath with clang, and clang is not installed on this machine.',
        'Install it with `apt-get install clang llvm libbpf-dev`, then rerun.',
      );
    throw err;
  }
  if (res.exitCode !== 0) {
    rmSync(tmp, { force: true });
    const tail = res.stderr.trim().split('\n').slice(-6).join(' | ');
    const missingHeaders = /bpf\/bpf_helpers\.h|asm\/types\.h|linux\/bpf\.h/.test(res.stderr);
    if (missingHeaders)
      throw new EnvironmentError(
        `clang could not find the BPF headers to compile ${sourcePath}: ${tail}.`,
        'Install them with `apt-get install libbpf-dev linux-libc-dev`, then rerun.',
      );
    throw new InfraError(`clang failed (exit ${res.exitCode}) to compile the lab datapath ${sourcePath}: ${tail}.`);
  }
  renameSync(tmp, objectPath);
  return { objectPath, hash, cached: false, durationMs: Date.now() - started };
}
