import type { ComponentChildren } from 'preact';

/** A line of context or warning above a page's content. */
export function Notice({ kind = 'info', children }: { kind?: 'info' | 'warn' | 'error'; children: ComponentChildren }) {
  return (
    <p class={`notice notice-${kind}`} role={kind === 'error' ? 'alert' : 'note'}>
      {children}
    </p>
  );
}
