/** Per-tool call counters and latency histograms, rendered in the Prometheus text format. */
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

interface ToolStats {
  calls: Map<string, number>; // outcome -> count
  buckets: number[];
  sum: number;
  count: number;
}

/** Label value escaping of the Prometheus text format. */
export function label(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

export class Metrics {
  private readonly tools = new Map<string, ToolStats>();
  private readonly started = Date.now();
  /** The audit log's state, when a server has one (records lost: a sink could not store them). */
  auditStatus?: () => { lost: number };
  /** Backend requests, retries, breakers and the discovery cache (see backend.ts). */
  backends?: () => string[];
  /** Spans handed to the trace exporter, when tracing is on. */
  spans?: () => { exported: number; failed: number };

  observe(tool: string, outcome: string, seconds: number): void {
    let s = this.tools.get(tool);
    if (!s) {
      s = { calls: new Map(), buckets: BUCKETS.map(() => 0), sum: 0, count: 0 };
      this.tools.set(tool, s);
    }
    s.calls.set(outcome, (s.calls.get(outcome) ?? 0) + 1);
    for (let i = 0; i < BUCKETS.length; i++) if (seconds <= BUCKETS[i]!) s.buckets[i]!++;
    s.sum += seconds;
    s.count++;
  }

  render(): string {
    const out: string[] = [
      '# HELP infra_mcp_tool_calls_total Tool calls by tool and outcome (ok, dry_run, error, denied).',
      '# TYPE infra_mcp_tool_calls_total counter',
    ];
    for (const [tool, s] of this.tools)
      for (const [outcome, n] of s.calls)
        out.push(`infra_mcp_tool_calls_total{tool="${label(tool)}",outcome="${outcome}"} ${n}`);
    out.push(
      '# HELP infra_mcp_tool_errors_total Tool calls that returned an error or were denied.',
      '# TYPE infra_mcp_tool_errors_total counter',
    );
    for (const [tool, s] of this.tools)
      out.push(
        `infra_mcp_tool_errors_total{tool="${label(tool)}"} ${(s.calls.get('error') ?? 0) + (s.calls.get('denied') ?? 0)}`,
      );
    out.push(
      '# HELP infra_mcp_tool_call_duration_seconds Tool call latency.',
      '# TYPE infra_mcp_tool_call_duration_seconds histogram',
    );
    for (const [tool, s] of this.tools) {
      for (const [i, b] of BUCKETS.entries()) {
        out.push(
          `infra_mcp_tool_call_duration_seconds_bucket{tool="${label(tool)}",le="${b}"} ${s.buckets[i]}`,
        );
      }
      out.push(`infra_mcp_tool_call_duration_seconds_bucket{tool="${label(tool)}",le="+Inf"} ${s.count}`);
      out.push(`infra_mcp_tool_call_duration_seconds_sum{tool="${label(tool)}"} ${s.sum}`);
      out.push(`infra_mcp_tool_call_duration_seconds_count{tool="${label(tool)}"} ${s.count}`);
    }
    if (this.auditStatus) {
      out.push(
        '# HELP infra_mcp_audit_lost_records_total Audit records a sink could not store (the call was served; writes fail closed).',
        '# TYPE infra_mcp_audit_lost_records_total counter',
        `infra_mcp_audit_lost_records_total ${this.auditStatus().lost}`,
      );
    }
    if (this.backends) out.push(...this.backends());
    if (this.spans) {
      const { exported, failed } = this.spans();
      out.push(
        '# HELP infra_mcp_trace_spans_exported_total Spans sent to the OTLP endpoint, by result.',
        '# TYPE infra_mcp_trace_spans_exported_total counter',
        `infra_mcp_trace_spans_exported_total{result="ok"} ${exported}`,
        `infra_mcp_trace_spans_exported_total{result="failed"} ${failed}`,
      );
    }
    out.push(
      '# HELP infra_mcp_uptime_seconds Seconds since the server started.',
      '# TYPE infra_mcp_uptime_seconds gauge',
    );
    out.push(`infra_mcp_uptime_seconds ${(Date.now() - this.started) / 1000}`);
    return `${out.join('\n')}\n`;
  }
}
