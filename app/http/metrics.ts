import client from 'prom-client';
import type { Runtime } from '../runtime.js';

/** Prometheus metrics of one server: default process metrics plus request counts and latency. */
export function createMetrics(rt: Runtime) {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  const requests = new client.Counter({
    name: 'http_requests_total',
    help: 'HTTP requests by method, route template and status',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const duration = new client.Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by method and route template',
    labelNames: ['method', 'route'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  // The request log drops calls rather than slow the API down: how many is worth an alert.
  new client.Gauge({
    name: 'request_log_dropped',
    help: 'API calls the request log dropped since start (buffer full or database unwritable)',
    registers: [registry],
    collect() {
      this.set(rt.requestLog.dropped);
    },
  });
  new client.Gauge({
    name: 'request_log_pending',
    help: 'API calls held in memory by the request log, not yet written',
    registers: [registry],
    collect() {
      this.set(rt.requestLog.pending);
    },
  });
  return {
    registry,
    observe(method: string, route: string, status: number, ms: number) {
      requests.inc({ method, route, status: String(status) });
      duration.observe({ method, route }, ms / 1000);
    },
  };
}
