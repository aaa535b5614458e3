/** HTML-escapes text for element content and quoted attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/**
 * The HTML document of a server-rendered page: language, viewport, title, the page's style sheets
 * and its one ES module (CSP `default-src 'self'`: no inline script or style). `body` is the whole
 * `<body>` element when `wrapBody` is false, else its content.
 */
export function htmlDocument(page: { title: string; styles: readonly string[]; script: string; body: string; wrapBody?: boolean }): string {
  const body = page.wrapBody === false ? page.body : `<body>\n${page.body}\n</body>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(page.title)}</title>
${page.styles.map((s) => `<link rel="stylesheet" href="${s}">`).join('\n')}
<script type="module" src="${page.script}"></script>
</head>
${body}
</html>
`;
}
