/** Renders a metrics × K table in Markdown (readable in a terminal and in reports). */
export function formatMetricsTable(
  metrics: Record<string, number>,
  ks: readonly number[],
  digits = 4,
): string {
  const sorted = [...new Set(ks)].sort((a, b) => a - b);
  const names = ['recall', 'ndcg', 'precision', 'hit', 'mrr'].filter((m) =>
    sorted.some((k) => `${m}@${k}` in metrics),
  );
  const header = `| metric | ${sorted.map((k) => `@${k}`).join(' | ')} |`;
  const sep = `|---|${sorted.map(() => '---:').join('|')}|`;
  const rows = names.map(
    (m) =>
      `| ${m} | ${sorted.map((k) => (metrics[`${m}@${k}`] ?? Number.NaN).toFixed(digits)).join(' | ')} |`,
  );
  return [header, sep, ...rows].join('\n');
}

/** A generic Markdown table. */
export function markdownTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  align?: readonly ('l' | 'r')[],
): string {
  const a = align ?? header.map((_, i) => (i === 0 ? 'l' : 'r'));
  return [
    `| ${header.join(' | ')} |`,
    `|${a.map((x) => (x === 'r' ? '---:' : '---')).join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}
