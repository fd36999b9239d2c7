import type { ComponentChildren } from 'preact';

/** What an empty page says: what would be here, and how to get it there. */
export function EmptyState({ title, children }: { title: string; children: ComponentChildren }) {
  return (
    <section class="empty" aria-label={title}>
      <h3>{title}</h3>
      {children}
    </section>
  );
}
