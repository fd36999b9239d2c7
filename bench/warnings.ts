/**
 * Process warnings raised by the system under test (a MaxListenersExceededWarning, a deprecation)
 * are findings, not noise: each distinct one is printed once, with the system's name, and handed to
 * `onNew` so the report can list it. Node's own printer is replaced, so it is not printed twice.
 */
export function captureWarnings(prefix: string, onNew: (text: string) => void = () => {}): void {
  const seen = new Set<string>();
  process.removeAllListeners('warning');
  process.on('warning', (warning) => {
    const text = `${warning.name}: ${warning.message}`;
    if (seen.has(text)) return;
    seen.add(text);
    const where = warning.stack?.split('\n').find((l) => l.includes('/src/'))?.trim();
    console.error(`  [${prefix}] warning: ${text}${where === undefined ? '' : ` (${where})`}`);
    onNew(where === undefined ? text : `${text} (${where})`);
  });
}
