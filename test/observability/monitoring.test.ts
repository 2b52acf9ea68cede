// The shipped Prometheus rules and Grafana dashboard: every expression parses as PromQL (the Prometheus project's
// own parser) and names only metrics the operator exports.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parser } from '@prometheus-io/lezer-promql';
import { parse } from 'yaml';
import { parseKubeDuration } from '../../src/api/kube-duration.js';
import { emptyTelemetry } from '../../src/hub/telemetry.js';
import { OperatorMetrics } from '../../src/observability/metrics.js';
import { REPO } from '../support/kube.js';

const MONITORING = join(REPO, 'manifests/monitoring');

/** Metric names in a PromQL expression; throws on a syntax error. */
function metricNames(expr: string): string[] {
  const names: string[] = [];
  const tree = parser.parse(expr);
  tree.iterate({
    enter: (node) => {
      if (node.type.isError) throw new Error(`PromQL syntax error at ${node.from} in: ${expr}`);
      if (node.name === 'Identifier' && node.node.parent?.name === 'VectorSelector')
        names.push(expr.slice(node.from, node.to));
    },
  });
  return names;
}

function exportedNames(): Set<string> {
  const metrics = new OperatorMetrics({
    telemetry: () => new Map([['hub.example', emptyTelemetry()]]),
    rateLimits: () => new Map(),
  });
  const names = new Set<string>();
  for (const metric of metrics.registry.getMetricsAsArray()) {
    names.add(metric.name);
    if (String((metric as unknown as { type?: unknown }).type) === 'histogram')
      for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${metric.name}${suffix}`);
  }
  return names;
}

describe('monitoring files', () => {
  const exported = exportedNames();

  it('has alert rules whose expressions parse and name exported metrics', () => {
    const rules = parse(readFileSync(join(MONITORING, 'prometheus-rules.yaml'), 'utf8'));
    const alerts = rules.groups.flatMap((g: any) => g.rules);
    const names = alerts.map((a: any) => a.alert);
    for (const wanted of [
      'IoTHubUnauthorized',
      'SecurityRolloutHalted',
      'SecurityAgentsStalled',
      'SecurityConfigReconcileErrors',
      'SecurityOperatorNoLeader',
    ])
      assert.ok(names.includes(wanted), `an alert ${wanted}`);
    for (const alert of alerts) {
      assert.ok(
        ['critical', 'warning', 'info'].includes(alert.labels?.severity),
        `${alert.alert} has a severity`,
      );
      assert.ok(parseKubeDuration(alert.for) !== undefined, `${alert.alert} has a valid 'for'`);
      assert.ok(alert.annotations?.summary, `${alert.alert} has a summary`);
      for (const name of metricNames(alert.expr))
        assert.ok(exported.has(name), `${alert.alert}: ${name} is not exported`);
    }
  });

  it('has a dashboard whose queries parse and name exported metrics', () => {
    const dashboard = JSON.parse(readFileSync(join(MONITORING, 'grafana-dashboard.json'), 'utf8'));
    const targets = dashboard.panels.flatMap((p: any) =>
      p.targets.map((t: any) => ({ panel: p.title, expr: t.expr })),
    );
    assert.ok(targets.length >= 10);
    const used = new Set<string>();
    for (const { panel, expr } of targets)
      for (const name of metricNames(expr)) {
        assert.ok(exported.has(name), `${panel}: ${name} is not exported`);
        used.add(name.replace(/_(bucket|sum|count)$/, ''));
      }
    for (const family of [
      'controller_runtime_reconcile_total',
      'workqueue_depth',
      'iot_security_hub_requests_total',
      'iot_security_resource_devices',
    ])
      assert.ok(used.has(family), `the dashboard shows ${family}`);
  });

  it('rejects an expression with a syntax error or an unknown metric (the check has teeth)', () => {
    assert.throws(() => metricNames('sum(rate(foo[5m])'), /syntax error/);
    assert.equal(exported.has(metricNames('iot_security_no_such_metric')[0]), false);
  });
});
