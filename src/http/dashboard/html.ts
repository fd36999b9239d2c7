/**
 * HTML text for the few pages the server writes itself (login, not built). Every value goes
 * through `escapeHtml`; the pages carry no script, so the CSP holds without exceptions.
 */

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * Text safe inside an element or a quoted attribute.
 * @example
 * escapeHtml('<script>') // '&lt;script&gt;'
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

/** A whole page: title, stylesheets of the built page (when there are), body HTML (already escaped). */
export function htmlPage(title: string, stylesheets: readonly string[], bodyHtml: string): string {
  const links = stylesheets.map((href) => `<link rel="stylesheet" href="${escapeHtml(href)}">`).join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${escapeHtml(title)}</title>
${links}
</head>
<body class="standalone">
${bodyHtml}
</body>
</html>
`;
}
