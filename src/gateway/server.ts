/**
 * startGatewayServer: the gateway on a real port (Node adapter), loopback by default, with the ledger's sweeper:
 * every pass renews this gateway's own holds (a live gateway's reservations never expire, however long a stream
 * runs) and expires the holds whose TTL has passed (those of a gateway that died); and with the alert sweeper, which
 * raises budget alerts and delivers their webhooks (alerts/alertSweeper.ts); and with `autoCalibrate`, the timer that
 * announces the calibrated price sheet once per epoch (pricing/autoCalibration.ts); and with the compute meter's
 * estimates loaded from the ledger before it serves, written back while it runs and once more when it closes
 * (compute/measurementPersistence.ts).
 */
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { startSweeper } from '../ledger/sweeper.ts';
import { startAlertSweeper } from './alerts/alertSweeper.ts';
import { createGateway, type GatewayOptions, gatewayDeps, isLoopback } from './app.ts';
import { createComputeMeter } from './compute/computeMeter.ts';
import { startMeasurementPersistence } from './compute/measurementPersistence.ts';
import { gatewayLimits } from './limits.ts';
import { createGatewayMetrics } from './metrics.ts';
import { type AutoCalibration, startAutoCalibration } from './pricing/autoCalibration.ts';

export interface GatewayServerOptions extends GatewayOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: any free port. */
  port?: number;
  /** How often the sweeper runs; default `ledgerLimits.sweepIntervalMsDefault`. */
  sweepIntervalMs?: number;
  /** How often budget alerts are raised and due webhooks delivered; default `alertSweepIntervalMsDefault`. */
  alertIntervalMs?: number;
  /** Attempts per webhook delivery before it is given up; default `webhookLimits.attemptsMaxDefault`. */
  webhookAttemptsMax?: number;
  /** Default `webhookLimits.requestTimeoutMs`. */
  webhookTimeoutMs?: number;
  /**
   * Deliver webhooks to loopback and private addresses (see alerts/webhookDestination.ts). Default: only when the
   * server is bound to loopback.
   */
  webhookPrivateDestinations?: boolean;
  /** Announce the calibrated sheet for the next epoch, once per epoch, when it changes a price. Default false. */
  autoCalibrate?: boolean;
  /** How often automatic calibration looks; default `calibrationIntervalMsDefault`. */
  calibrateIntervalMs?: number;
  /** How often changed compute measurements are written to the ledger; default `computeLimits.persistIntervalMs`. */
  measurementsPersistIntervalMs?: number;
}

export interface GatewayServer {
  /** e.g. http://127.0.0.1:8787 (no trailing slash); the OpenAI base URL is `${url}/v1`. */
  url: string;
  port: number;
  /** Stops accepting, closes open connections (streams in flight are aborted, and settle for what they sent). */
  close(): Promise<void>;
}

export async function startGatewayServer(options: GatewayServerOptions): Promise<GatewayServer> {
  const host = options.host ?? '127.0.0.1';
  const metrics = options.metrics ?? createGatewayMetrics();
  const computeMeter = options.computeMeter ?? createComputeMeter(options.clock ?? Date.now);
  const logError = (message: string) => (error: unknown) =>
    options.logger ? options.logger.error({ err: error }, message) : console.error(`perdiem: ${message}:`, error);
  const measurements = await startMeasurementPersistence({
    ledger: options.ledger,
    table: computeMeter.table,
    ...(options.measurementsPersistIntervalMs === undefined
      ? {}
      : { intervalMs: options.measurementsPersistIntervalMs }),
    onError: logError('saving compute measurements failed; retrying next pass'),
  });
  const gatewayOptions = { ...options, metrics, computeMeter, bindHost: host };
  const deps = gatewayDeps(gatewayOptions);
  const app = createGateway(gatewayOptions, deps);
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const started = serve({ fetch: app.fetch, hostname: host, port: options.port ?? 0 }, () => resolve(started));
    started.once('error', reject);
  });
  const sweeper = startSweeper({
    ledger: options.ledger,
    holdTtlMs: gatewayLimits.reservationTtlMs,
    ...(options.sweepIntervalMs === undefined ? {} : { intervalMs: options.sweepIntervalMs }),
    onError: (error) =>
      options.logger
        ? options.logger.error({ err: error }, 'ledger sweeper failed; retrying next pass')
        : console.error('perdiem: ledger sweeper failed; retrying next pass:', error),
  });
  const alerts = startAlertSweeper({
    ledger: options.ledger,
    clock: options.clock ?? Date.now,
    ...(options.alertIntervalMs === undefined ? {} : { intervalMs: options.alertIntervalMs }),
    ...(options.webhookAttemptsMax === undefined ? {} : { attemptsMax: options.webhookAttemptsMax }),
    ...(options.webhookTimeoutMs === undefined ? {} : { timeoutMs: options.webhookTimeoutMs }),
    privateDestinations: options.webhookPrivateDestinations ?? isLoopback(host),
    onError: (error) =>
      options.logger
        ? options.logger.error({ err: error }, 'alert sweeper failed; retrying next pass')
        : console.error('perdiem: alert sweeper failed; retrying next pass:', error),
    onPass: (pass) => {
      metrics.observeAlerts(pass);
      options.logger?.info({ alerts: pass }, 'budget alerts raised and webhooks delivered');
    },
  });
  const calibration: AutoCalibration | null = options.autoCalibrate
    ? startAutoCalibration({
        deps,
        ...(options.calibrateIntervalMs === undefined ? {} : { intervalMs: options.calibrateIntervalMs }),
        onError: (error) => deps.logger.error({ err: error }, 'automatic calibration failed; retrying next pass'),
        onAnnounce: (sheet) =>
          deps.logger.info(
            { effectiveFrom: new Date(sheet.effectiveFromMs).toISOString() },
            'calibrated price sheet announced',
          ),
      })
    : null;
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    port,
    close: async () => {
      await new Promise<void>((done) => {
        server.close(() => done());
        if ('closeAllConnections' in server) server.closeAllConnections();
      });
      await Promise.all([sweeper.stop(), alerts.stop(), calibration?.stop(), measurements.stop()]);
    },
  };
}
