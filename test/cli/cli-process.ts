/**
 * Running the `offload` executable in the CLI tests: as a child process (the real exit code, the
 * real signals), or in-process through runCli with a captured CliIo for the cheap argument checks.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { CliIo } from '../../src/cli/io.ts';
import type { TestStore } from '../stores.ts';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const MAIN = join(ROOT, 'src/cli/main.ts');
export const TASKS = join(ROOT, 'test/cli/fixtures/tasks.ts');
// By URL, so that a child started in another folder (dev's .offload/) still finds the loader.
const TSX = import.meta.resolve('tsx');

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface Running {
  /** Resolves with the first stdout line matching `pattern` (already written, or to come). */
  line(pattern: RegExp): Promise<string>;
  kill(signal: NodeJS.Signals): void;
  exited: Promise<Finished>;
  stdout(): string;
}

/** The CLI's form of a test store's spec: sqlite:PATH, or a postgres URL with ?schema=. */
export function cliStore(store: TestStore): string {
  if (store.name === 'sqlite') return store.spec;
  const [url, schema] = store.spec.slice('postgres:'.length).split('#') as [string, string];
  return `${url}?schema=${schema}`;
}

/** The environment of a child: this one's, without the variables the CLI reads. */
function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const { OFFLOAD_STORE: _s, OFFLOAD_TASKS: _t, OFFLOAD_API_TOKENS: _a, ...rest } = process.env;
  return { ...rest, ...env };
}

/**
 * Children still running. A test that fails before it stops its child would otherwise leave it
 * running, and its open pipes would keep the test file (and the whole run) from ever ending.
 */
const live = new Set<ChildProcess>();
after(() => {
  for (const child of live) child.kill('SIGKILL');
});

/** Starts `offload <args>` as a child process. */
export function start(args: readonly string[], options: { env?: Record<string, string>; cwd?: string } = {}): Running {
  const child = spawn(process.execPath, ['--import', TSX, MAIN, ...args], { cwd: options.cwd ?? ROOT, env: childEnv(options.env ?? {}), stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  child.on('exit', () => live.delete(child));
  let out = '';
  let err = '';
  const waiters: Array<{ pattern: RegExp; resolve: (l: string) => void }> = [];
  const check = () => {
    for (let i = waiters.length - 1; i >= 0; i--) {
      const found = out.split('\n').find((l) => waiters[i]!.pattern.test(l));
      if (found !== undefined) waiters.splice(i, 1)[0]!.resolve(found);
    }
  };
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
    check();
  });
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<Finished>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout: out, stderr: err })));
  return {
    line: (pattern) =>
      new Promise((resolve, reject) => {
        waiters.push({ pattern, resolve });
        check();
        // A child that exits without printing the line would leave the test waiting forever.
        void exited.then((f) => reject(new Error(`exited ${f.code} before printing ${pattern}:\n${f.stdout}\n${f.stderr}`)));
      }),
    kill: (signal) => child.kill(signal),
    exited,
    stdout: () => out,
  };
}

/** Runs `offload <args>` to its end. */
export function cli(args: readonly string[], options: { env?: Record<string, string>; cwd?: string } = {}): Promise<Finished> {
  return start(args, options).exited;
}

export interface TestIo extends CliIo {
  out(): string;
  err(): string;
}

function sink(append: (s: string) => void): Writable {
  return new Writable({
    write(chunk: Buffer, _e, done) {
      append(chunk.toString());
      done();
    },
  });
}

/** A CliIo for in-process runs: captured output, no environment, no signals. */
export function testIo(env: Record<string, string> = {}): TestIo {
  let out = '';
  let err = '';
  return {
    stdout: sink((s) => (out += s)),
    stderr: sink((s) => (err += s)),
    env,
    cwd: ROOT,
    now: () => Date.now(),
    onStopSignal: () => () => {},
    out: () => out,
    err: () => err,
  };
}

/** Runs `offload <args>` in this process (runCli with a captured CliIo): the cheap way for most checks. */
export async function inProcess(args: readonly string[], env: Record<string, string> = {}): Promise<Finished> {
  const { runCli } = await import('../../src/cli/program.ts');
  const io = testIo(env);
  const code = await runCli(args, io);
  return { code, signal: null, stdout: io.out(), stderr: io.err() };
}
