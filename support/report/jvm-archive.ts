/**
 * Allure's own classes in a class-data-sharing archive: `allure generate` is a JVM that loads and
 * verifies a few thousand classes (Jackson, Freemarker, its plugins) before it writes a byte, and
 * the JDK's default archive covers only the JDK's classes. A dynamic archive of Allure's classes
 * (`-XX:ArchiveClassesAtExit`, JDK 13+) is written by the first report and mapped by every later
 * one (`-XX:SharedArchiveFile`): measured here, idle, a seed report's `allure generate` went from
 * 2.2 s to 1.35 s. The output is the same: the archive only holds parsed class files.
 *
 * The archive belongs to one JVM build and one Allure: its name carries both (the java binary's
 * real path, size and time; Allure's version), so an upgrade makes a new one. A JVM that cannot
 * map it (another build behind the same path) warns and runs without it (`-Xshare:auto`).
 * Where: `$XDG_CACHE_HOME/hookpoint` or `~/.cache/hookpoint` (`HOOKPOINT_CACHE_DIR` overrides);
 * when that cannot be written, reports are rendered without an archive. Delete the directory
 * to drop it.
 */
import { createHash } from 'node:crypto';
import { mkdir, realpath, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { cacheDir } from '../cache-dir.js';

/** Pure: the archive's file name for one JVM build and one Allure version. */
export function archiveName(java: { path: string; size: number; mtimeMs: number }, allureVersion: string): string {
  const key = createHash('sha256')
    .update(`${java.path}\0${java.size}\0${Math.trunc(java.mtimeMs)}\0${allureVersion}`)
    .digest('hex')
    .slice(0, 16);
  return `allure-${allureVersion}-${key}.jsa`;
}

export interface ClassArchive {
  /** JVM options for this run: map the archive, or write it at exit. */
  jvmOptions: string[];
  /** After a successful run that wrote the archive: move it into place (a no-op otherwise). */
  commit(): Promise<void>;
  /** After a failed run: remove a half-written archive. */
  discard(): Promise<void>;
}

const NONE: ClassArchive = { jvmOptions: [], commit: async () => {}, discard: async () => {} };

/** Options that map the archive when it is already written (none otherwise): for a JVM that must not write one. */
export async function existingArchive(
  java: string,
  allureVersion: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string[]> {
  const opts = (await classArchive(java, allureVersion, env)).jvmOptions;
  return opts.some((o) => o.startsWith('-XX:SharedArchiveFile=')) ? opts : [];
}

/** The archive options for `java` running Allure `allureVersion`; none when the cache cannot be used. */
export async function classArchive(
  java: string,
  allureVersion: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ClassArchive> {
  try {
    const real = await realpath(java);
    const s = await stat(real);
    const dir = cacheDir(env);
    const file = path.join(dir, archiveName({ path: real, size: s.size, mtimeMs: s.mtimeMs }, allureVersion));
    try {
      if ((await stat(file)).size > 0) return { ...NONE, jvmOptions: [`-XX:SharedArchiveFile=${file}`] };
    } catch {
      // not written yet: this run writes it
    }
    await mkdir(dir, { recursive: true });
    // Written under a name of its own and renamed when the run succeeded: two runs writing at
    // once each rename a whole archive, and a failed run leaves none.
    const partial = `${file}.${process.pid}.partial`;
    return {
      jvmOptions: [`-XX:ArchiveClassesAtExit=${partial}`],
      commit: async () => {
        try {
          if ((await stat(partial)).size > 0) return await rename(partial, file);
        } catch {
          // not written (a JVM that could not dump it): nothing to move
        }
        await rm(partial, { force: true });
      },
      discard: () => rm(partial, { force: true }),
    };
  } catch {
    return NONE;
  }
}
