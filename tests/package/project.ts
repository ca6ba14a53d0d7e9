// A user's project with the built package installed the way npm would: `npm pack`'s tarball
// unpacked into node_modules/ringkernel (so only the shipped files are there), and the tools
// the tests run it with (tsx, typescript, webgpu) linked from this repository. Scripts then
// run in a fresh process, resolving 'ringkernel' by its name.
import { spawnSync, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repo = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Runs npm: the one that runs this test (npm test sets npm_execpath) rather than the first on
 * PATH, which under `npm test` is node_modules/.bin/npm (an npm 6 that a dev dependency brings).
 */
export function npm(args: string[]): string {
  const cli = process.env.npm_execpath;
  return cli && /\.[cm]?js$/.test(cli)
    ? execFileSync(process.execPath, [cli, ...args], { cwd: repo, encoding: 'utf8' })
    : execFileSync('npm', args, { cwd: repo, encoding: 'utf8' });
}

let made: string | null = null;

/** The project's folder (made once per process, removed at exit). */
export function project(): string {
  if (made) return made;
  const dir = mkdtempSync(join(tmpdir(), 'ringkernel-user-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const out = npm(['pack', '--json', '--pack-destination', dir]);
  const tarball = join(dir, JSON.parse(out)[0].filename);
  const pkg = join(dir, 'node_modules', 'ringkernel');
  mkdirSync(pkg, { recursive: true });
  execFileSync('tar', ['xzf', tarball, '-C', pkg, '--strip-components=1']);
  for (const tool of ['tsx', 'typescript', 'webgpu', '@types/node']) {
    const from = join(repo, 'node_modules', tool);
    if (!existsSync(from)) continue;
    mkdirSync(join(dir, 'node_modules', tool, '..'), { recursive: true });
    symlinkSync(from, join(dir, 'node_modules', tool), 'dir');
  }
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'user-project', private: true, type: 'module' }));
  return (made = dir);
}

/** Writes files (name -> text) into the project. */
export function files(entries: Record<string, string>): void {
  const dir = project();
  for (const [name, text] of Object.entries(entries)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
}

export interface Ran { status: number | null; signal: string | null; stdout: string; stderr: string; ms: number }

/** Runs `command args` in the project, in a fresh process. */
export function run(command: string, args: string[], options: { timeout?: number; env?: Record<string, string> } = {}): Ran {
  const t0 = Date.now();
  const r = spawnSync(command === 'node' ? process.execPath : command, args, {
    cwd: project(), encoding: 'utf8', timeout: options.timeout ?? 30_000,
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', NODE_OPTIONS: '', ...options.env },
  });
  return { status: r.status, signal: r.signal, stdout: r.stdout.trim(), stderr: r.stderr, ms: Date.now() - t0 };
}

/** The project's own bin (npx tsx without npx's network look-ups). */
export const bin = (name: string) => join(project(), 'node_modules', name, 'dist', 'cli.mjs');
