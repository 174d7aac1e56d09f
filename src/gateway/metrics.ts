/**
 * The gateway's Prometheus metrics, kept as plain counters and one latency histogram (no client library: the text
 * format is small and the hot path only bumps numbers).
 */

const latencyBucketsMs = [1, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000] as const;

export interface RequestObservation {
  route: string;
  status: number;
  latencyMs: number;
}

export interface GatewayMetrics {
  observeRequest(observation: RequestObservation): void;
  /** A settled charge, in nano-USD, per model and funding source. */
  observeCharge(
    model: string,
    source: string,
    amountNano: bigint,
    promptTokens: number,
    completionTokens: number,
  ): void;
  observeRateLimited(scope: string): void;
  observeUpstreamError(code: string): void;
  /** One alert sweeper pass: alerts raised, and webhook deliveries by outcome. */
  observeAlerts(pass: { raised: number; delivered: number; failed: number; gaveUp: number }): void;
  /** A price sheet reached its start without an anchor on chain: refused (the one before stays) or only warned. */
  observeUnanchoredSheet(outcome: 'refused' | 'warned'): void;
  render(): string;
}

export function labels(values: Record<string, string | number>): string {
  const parts = Object.entries(values).map(([name, value]) => `${name}="${String(value).replace(/["\\\n]/g, '_')}"`);
  return `{${parts.join(',')}}`;
}

/** The label text of a series, built once per distinct series (the hot path bumps a few known series). */
function labelCache(): (values: Record<string, string | number>, key: string) => string {
  const cache = new Map<string, string>();
  return (values, key) => {
    let text = cache.get(key);
    if (text === undefined) {
      text = labels(values);
      cache.set(key, text);
    }
    return text;
  };
}

export function createGatewayMetrics(): GatewayMetrics {
  const routeStatus = labelCache();
  const route = labelCache();
  const modelSource = labelCache();
  const modelKind = labelCache();
  const requests = new Map<string, number>();
  const charges = new Map<string, bigint>();
  const tokens = new Map<string, number>();
  const rateLimited = new Map<string, number>();
  const upstreamErrors = new Map<string, number>();
  const alertsRaised = new Map<string, number>();
  const webhookDeliveries = new Map<string, number>();
  const unanchoredSheets = new Map<string, number>();
  const latencyCounts = new Map<string, number[]>();
  const latencySums = new Map<string, number>();
  const bump = (map: Map<string, number>, key: string, by = 1) => map.set(key, (map.get(key) ?? 0) + by);

  return {
    observeRequest(observation) {
      const { status, latencyMs } = observation;
      bump(requests, routeStatus({ route: observation.route, status }, `${observation.route}\u0000${status}`));
      const key = route({ route: observation.route }, observation.route);
      let counts = latencyCounts.get(key);
      if (counts === undefined) {
        counts = new Array<number>(latencyBucketsMs.length + 1).fill(0);
        latencyCounts.set(key, counts);
      }
      const index = latencyBucketsMs.findIndex((bound) => latencyMs <= bound);
      counts[index === -1 ? latencyBucketsMs.length : index]! += 1;
      bump(latencySums, key, latencyMs / 1000);
    },
    observeCharge(model, source, amountNano, promptTokens, completionTokens) {
      const key = modelSource({ model, source }, `${model}\u0000${source}`);
      charges.set(key, (charges.get(key) ?? 0n) + amountNano);
      bump(tokens, modelKind({ model, kind: 'prompt' }, `${model}\u0000prompt`), promptTokens);
      bump(tokens, modelKind({ model, kind: 'completion' }, `${model}\u0000completion`), completionTokens);
    },
    observeRateLimited(scope) {
      bump(rateLimited, labels({ scope }));
    },
    observeUpstreamError(code) {
      bump(upstreamErrors, labels({ code }));
    },
    observeAlerts(pass) {
      bump(alertsRaised, '', pass.raised);
      for (const outcome of ['delivered', 'failed', 'gaveUp'] as const) {
        bump(webhookDeliveries, labels({ outcome: outcome === 'gaveUp' ? 'gave_up' : outcome }), pass[outcome]);
      }
    },
    observeUnanchoredSheet(outcome) {
      bump(unanchoredSheets, labels({ outcome }));
    },
    render() {
      const out: string[] = [];
      const counter = (name: string, help: string, map: Map<string, number | bigint>) => {
        out.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`);
        for (const [key, value] of map) out.push(`${name}${key} ${value}`);
      };
      counter('perdiem_requests_total', 'HTTP requests by route and status.', requests);
      counter('perdiem_charged_nano_usd_total', 'Settled charges in nano-USD.', charges);
      counter('perdiem_tokens_total', 'Charged tokens.', tokens);
      counter('perdiem_rate_limited_total', 'Requests refused by a rate limit.', rateLimited);
      counter('perdiem_upstream_errors_total', 'Upstream failures by code.', upstreamErrors);
      counter('perdiem_budget_alerts_raised_total', 'Budget alerts raised by this gateway.', alertsRaised);
      counter('perdiem_webhook_deliveries_total', 'Webhook delivery attempts by outcome.', webhookDeliveries);
      const unanchoredHelp = 'Price sheets that reached their start unanchored on chain, refused or warned.';
      counter('perdiem_price_sheets_unanchored_total', unanchoredHelp, unanchoredSheets);
      const name = 'perdiem_request_duration_seconds';
      out.push(`# HELP ${name} Request latency.`, `# TYPE ${name} histogram`);
      for (const [key, counts] of latencyCounts) {
        const route = key.slice(1, -1);
        let cumulative = 0;
        latencyBucketsMs.forEach((bound, i) => {
          cumulative += counts[i]!;
          out.push(`${name}_bucket{${route},le="${bound / 1000}"} ${cumulative}`);
        });
        cumulative += counts[latencyBucketsMs.length]!;
        out.push(`${name}_bucket{${route},le="+Inf"} ${cumulative}`);
        out.push(`${name}_sum${key} ${latencySums.get(key) ?? 0}`, `${name}_count${key} ${cumulative}`);
      }
      return `${out.join('\n')}\n`;
    },
  };
}
