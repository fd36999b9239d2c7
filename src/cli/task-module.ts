/**
 * Loads the user's tasks module (`--tasks`): an ES module whose exports include tasks made by
 * `defineTask`. Every export that looks like a task (a string `name` and a function `handler`)
 * is taken, and so is every task in an exported array (`export default [a, b]`). The same task
 * exported twice counts once; two different tasks with one name are refused.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { TaskDefinition } from '../index.ts';
import { UsageError } from './usage-error.ts';

type AnyTask = TaskDefinition<any, any, any>;

function isTask(value: unknown): value is AnyTask {
  return typeof value === 'object' && value !== null && typeof (value as { name?: unknown }).name === 'string' && typeof (value as { handler?: unknown }).handler === 'function';
}

/** The tasks among a module's exports, in export order. */
export function tasksOf(exports: Record<string, unknown>): AnyTask[] {
  const found = new Map<string, AnyTask>();
  for (const [key, value] of Object.entries(exports)) {
    for (const candidate of Array.isArray(value) ? (value as unknown[]) : [value]) {
      if (!isTask(candidate)) continue;
      const seen = found.get(candidate.name);
      if (seen !== undefined && seen !== candidate) throw new UsageError(`--tasks: two different tasks are named '${candidate.name}' (export '${key}')`);
      found.set(candidate.name, candidate);
    }
  }
  return [...found.values()];
}

export async function loadTasks(modulePath: string, cwd: string): Promise<AnyTask[]> {
  const path = resolve(cwd, modulePath);
  if (!existsSync(path)) throw new UsageError(`--tasks: no such file: ${path}`);
  let exports: Record<string, unknown>;
  try {
    exports = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (err) {
    throw new UsageError(`--tasks: cannot import ${path}: ${(err as Error).message}`);
  }
  const tasks = tasksOf(exports);
  if (tasks.length === 0) throw new UsageError(`--tasks: ${path} exports no task (export the values defineTask() returns)`);
  return tasks;
}
