/**
 * Prometheus text exposition for the few series Gatehouse exports: HTTP requests and latency,
 * sign-in outcomes, and the database pool. Kept in process; each server exports its own.
 */
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

type Histogram = { buckets: number[]; sum: number; count: number };

export class Metrics {
  readonly #requests = new Map<string, number>();
  readonly #latency = new Map<string, Histogram>();
  readonly #signIns = new Map<string, number>();
  #poolStats: () => { total: number; idle: number; waiting: number } = () => ({ total: 0, idle: 0, waiting: 0 });

  setPoolStats(fn: () => { total: number; idle: number; waiting: number }): void {
    this.#poolStats = fn;
  }

  observeRequest(method: string, route: string, status: number, seconds: number): void {
    const key = `method="${method}",route="${escape(route)}",status="${status}"`;
    this.#requests.set(key, (this.#requests.get(key) ?? 0) + 1);
    const lkey = `method="${method}",route="${escape(route)}"`;
    let h = this.#latency.get(lkey);
    if (!h) {
      h = { buckets: BUCKETS.map(() => 0), sum: 0, count: 0 };
      this.#latency.set(lkey, h);
    }
    for (let i = 0; i < BUCKETS.length; i++) if (seconds <= BUCKETS[i]!) h.buckets[i]!++;
    h.sum += seconds;
    h.count++;
  }

  /** Called by sign-in flows as each attempt ends: outcome is success | failure | interrupted. */
  recordSignIn(outcome: string, errorCode: string | number = 0): void {
    const key = `outcome="${escape(outcome)}",error_code="${escape(String(errorCode))}"`;
    this.#signIns.set(key, (this.#signIns.get(key) ?? 0) + 1);
  }

  render(): string {
    const out: string[] = [];
    out.push('# HELP gatehouse_http_requests_total HTTP requests by method, route and status.', '# TYPE gatehouse_http_requests_total counter');
    for (const [k, v] of this.#requests) out.push(`gatehouse_http_requests_total{${k}} ${v}`);
    out.push('# HELP gatehouse_http_request_duration_seconds HTTP request latency.', '# TYPE gatehouse_http_request_duration_seconds histogram');
    for (const [k, h] of this.#latency) {
      BUCKETS.forEach((b, i) => out.push(`gatehouse_http_request_duration_seconds_bucket{${k},le="${b}"} ${h.buckets[i]}`));
      out.push(`gatehouse_http_request_duration_seconds_bucket{${k},le="+Inf"} ${h.count}`);
      out.push(`gatehouse_http_request_duration_seconds_sum{${k}} ${h.sum}`);
      out.push(`gatehouse_http_request_duration_seconds_count{${k}} ${h.count}`);
    }
    out.push('# HELP gatehouse_sign_ins_total Sign-in attempts by outcome and error code.', '# TYPE gatehouse_sign_ins_total counter');
    for (const [k, v] of this.#signIns) out.push(`gatehouse_sign_ins_total{${k}} ${v}`);
    const pool = this.#poolStats();
    out.push('# HELP gatehouse_db_pool_connections Database connections by state.', '# TYPE gatehouse_db_pool_connections gauge');
    out.push(`gatehouse_db_pool_connections{state="total"} ${pool.total}`);
    out.push(`gatehouse_db_pool_connections{state="idle"} ${pool.idle}`);
    out.push('# HELP gatehouse_db_pool_waiting Requests waiting for a database connection.', '# TYPE gatehouse_db_pool_waiting gauge');
    out.push(`gatehouse_db_pool_waiting ${pool.waiting}`);
    return out.join('\n') + '\n';
  }
}

function escape(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
