/**
 * The alert sweeper: every pass raises the alerts whose thresholds the settled spend has reached
 * (`ledger.raiseAlerts`), then delivers the webhooks due now (webhookDelivery.ts). Safe in every replica at once:
 * an alert is raised once however many replicas raise it, and a due delivery is leased to the replica that took it.
 */
import { secondMs } from '../../core/epoch.ts';
import { type DeliveryOutcome, deliverDueWebhooks, type WebhookDeliveryOptions } from './webhookDelivery.ts';

export const alertSweepIntervalMsDefault = 2 * secondMs;

export interface AlertSweeperOptions extends WebhookDeliveryOptions {
  /** Default `alertSweepIntervalMsDefault`. */
  intervalMs?: number;
  /** Failures are reported and retried next pass, never thrown into the process. */
  onError: (error: unknown) => void;
  /** Called after each pass that raised or delivered something. */
  onPass?: (pass: AlertPass) => void;
}

export interface AlertPass extends DeliveryOutcome {
  raised: number;
}

export interface AlertSweeper {
  runOnce(): Promise<AlertPass>;
  stop(): Promise<void>;
}

export function startAlertSweeper(options: AlertSweeperOptions): AlertSweeper {
  let running: Promise<unknown> | null = null;
  let stopped = false;
  const runOnce = async (): Promise<AlertPass> => {
    const raised = (await options.ledger.raiseAlerts()).length;
    const pass = { raised, ...(await deliverDueWebhooks(options)) };
    if (pass.raised + pass.delivered + pass.failed + pass.gaveUp > 0) options.onPass?.(pass);
    return pass;
  };
  const tick = () => {
    if (running || stopped) return;
    running = runOnce()
      .catch((error: unknown) => options.onError(error))
      .finally(() => {
        running = null;
      });
  };
  const timer = setInterval(tick, options.intervalMs ?? alertSweepIntervalMsDefault);
  timer.unref();
  return {
    runOnce,
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
