/**
 * The alert sweeper: every pass raises the alerts whose thresholds the settled spend has reached
 * (`ledger.raiseAlerts`), then delivers the webhooks due now (webhookDelivery.ts). Safe in every replica at once:
 * an alert is raised once however many replicas raise it, and a due delivery is leased to the replica that took it.
 */
import { secondMs } from '../../core/epoch.ts';
import { type PeriodicTask, startPeriodicTask } from '../periodicTask.ts';
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

export type AlertSweeper = PeriodicTask<AlertPass>;

export function startAlertSweeper(options: AlertSweeperOptions): AlertSweeper {
  const runOnce = async (): Promise<AlertPass> => {
    const raised = (await options.ledger.raiseAlerts()).length;
    const pass = { raised, ...(await deliverDueWebhooks(options)) };
    if (pass.raised + pass.delivered + pass.failed + pass.gaveUp > 0) options.onPass?.(pass);
    return pass;
  };
  return startPeriodicTask(runOnce, {
    intervalMs: options.intervalMs ?? alertSweepIntervalMsDefault,
    onError: options.onError,
  });
}
