/**
 * Server child processes of the experiment: started with `node --import tsx`, ready once they
 * print a JSON line with `msg: 'listening'` and a `url`, stopped with SIGTERM (then SIGKILL if
 * they do not exit), so the benchmark always ends by itself.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface ServerChild {
  url: string;
  process: ChildProcess;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
  stop(graceMs: number): Promise<number | null>;
  /** What the child wrote to stderr (and stdout lines that were not JSON). */
  output(): string;
}

export function startServer(args: string[], options: { cwd: string; env?: Record<string, string>; readyTimeoutMs: number }): Promise<ServerChild> {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let pending = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start within ${options.readyTimeoutMs} ms: ${out}`));
    }, options.readyTimeoutMs);
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      pending += d.toString();
      let nl = pending.indexOf('\n');
      while (nl >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        nl = pending.indexOf('\n');
        let parsed: { msg?: unknown; url?: unknown } | null = null;
        try {
          parsed = JSON.parse(line) as { msg?: unknown; url?: unknown };
        } catch {
          out += `${line}\n`;
        }
        if (parsed?.msg === 'listening' && typeof parsed.url === 'string') {
          clearTimeout(timer);
          resolve({
            url: parsed.url,
            process: child,
            output: () => out,
            async stop(graceMs) {
              if (child.exitCode !== null) return child.exitCode;
              child.kill('SIGTERM');
              const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
              const code = await exited;
              clearTimeout(kill);
              return code;
            },
          });
        } else if (parsed !== null && typeof (parsed as { level?: unknown }).level === 'number' && (parsed as { level: number }).level >= 40) out += `${line}\n`;
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before listening: ${out}`));
    });
  });
}
