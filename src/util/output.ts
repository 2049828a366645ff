import { accessSync, constants, existsSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { OutputError } from '../errors.js';

/**
 * Every file and folder tinyml writes goes through here: checked before the work starts, written beside
 * the target and renamed into place, so a failed or killed command leaves the old state or nothing.
 */

function reason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  const known: Record<string, string> = {
    ENOENT: 'no such file or directory', EACCES: 'permission denied', EPERM: 'operation not permitted',
    EROFS: 'read-only file system', ENOSPC: 'no space left on the device', EISDIR: 'it is a directory',
    ENOTDIR: 'a parent is not a directory', EEXIST: 'it already exists', EXDEV: 'cannot rename across file systems',
  };
  return (code && known[code]) ?? (e as Error)?.message ?? String(e);
}

/** The existing, writable directory an output at `path` goes into. */
function parentOf(path: string): string {
  const dir = dirname(resolve(path));
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    throw new OutputError(`cannot write ${path}: the directory ${dir} does not exist`);
  }
  if (!isDir) throw new OutputError(`cannot write ${path}: ${dir} is not a directory`);
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new OutputError(`cannot write ${path}: the directory ${dir} is not writable`);
  }
  return dir;
}

/** Refuse early (before any work) a file output that cannot be written. */
export function checkFileOutput(path: string): void {
  if (path.trim() === '') throw new OutputError('an output path is empty');
  if (existsSync(path) && statSync(path).isDirectory()) throw new OutputError(`cannot write ${path}: it is a directory`);
  parentOf(path);
}

let counter = 0;

/** Write a whole file or nothing: a temporary file in the same directory, renamed over the target. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  checkFileOutput(path);
  const tmp = join(parentOf(path), `.${basename(path)}.${process.pid}.${counter++}.tmp`);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new OutputError(`cannot write ${path}: ${reason(e)}`);
  }
}

/** A folder output: may replace an existing folder only when `replaceable` says it is ours (or it is empty). */
export function checkDirOutput(path: string, replaceable: (dir: string) => boolean): void {
  if (path.trim() === '') throw new OutputError('an output directory is empty');
  if (existsSync(path)) {
    const st = statSync(path);
    if (!st.isDirectory()) throw new OutputError(`cannot write the project to ${path}: it is a file`);
    if (readdirSync(path).length > 0 && !replaceable(path)) {
      throw new OutputError(`${path} is a non-empty folder that tinyml did not generate; choose a new or empty folder (nothing was written)`);
    }
  }
  parentOf(path);
}

/**
 * Write a folder of files all at once: built in a temporary sibling, then swapped for the old folder,
 * which is removed only after the new one is in place. Stale files of an earlier project do not survive.
 */
export function writeDirAtomic(path: string, files: readonly { path: string; contents: string | Uint8Array }[], replaceable: (dir: string) => boolean): void {
  checkDirOutput(path, replaceable);
  const parent = parentOf(path);
  let tmp: string;
  try {
    tmp = mkdtempSync(join(parent, `.${basename(path)}.tmp-`));
  } catch (e) {
    throw new OutputError(`cannot write the project to ${path}: ${reason(e)}`);
  }
  const old = `${resolve(path)}.old-${process.pid}-${counter++}`;
  let moved = false;
  try {
    for (const f of files) {
      const target = join(tmp, f.path);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, f.contents);
    }
    if (existsSync(path)) {
      renameSync(path, old);
      moved = true;
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    if (moved && !existsSync(path)) renameSync(old, path);
    throw new OutputError(`cannot write the project to ${path}: ${reason(e)}`);
  }
  if (moved) rmSync(old, { recursive: true, force: true });
}
