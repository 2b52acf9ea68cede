// The operator's Prometheus metrics as tests read them: scraped from the /metrics of an operator process.
import type { OperatorProcess } from './operator-process.js';

export interface MetricSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition. */
export function parseMetrics(text: string): MetricSample[] {
  const samples = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]] = pair[2];
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

export async function scrapeMetrics(operator: OperatorProcess): Promise<MetricSample[]> {
  const { metrics } = await operator.endpoints();
  return parseMetrics(await (await fetch(`${metrics}/metrics`)).text());
}

/** Reconciles the operator has finished, whatever their result (controller_runtime_reconcile_total). */
export async function reconcilesFinished(operator: OperatorProcess): Promise<number> {
  return (await scrapeMetrics(operator))
    .filter((s) => s.name === 'controller_runtime_reconcile_total')
    .reduce((sum, s) => sum + s.value, 0);
}
