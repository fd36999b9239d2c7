import { json } from '../format.ts';

/** A JSON value as indented text. Text, never HTML: a `<script>` in a payload shows as written. */
export function JsonBlock({ value, label }: { value: unknown; label: string }) {
  return (
    <pre class="json" aria-label={label} tabIndex={0}>
      {json(value)}
    </pre>
  );
}
