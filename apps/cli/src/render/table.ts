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

export { markdownTable } from '@promax/report';
