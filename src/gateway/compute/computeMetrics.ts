/** The compute measurements as Prometheus gauges, one series per (model, provider, kind) and reading. */
import { formatCu } from '../../core/computeUnits.ts';
import { labels } from '../metrics.ts';
import type { MeasurementView } from './measuredCompute.ts';

interface Gauge {
  name: string;
  help: string;
  series: Array<{ labels: Record<string, string>; value: string | number }>;
}

export function computeMetricsText(views: readonly MeasurementView[]): string {
  const own = views.filter((view) => view.inheritedFrom === null);
  const gauge = (name: string, help: string): Gauge => ({ name, help, series: [] });
  const prefill = gauge('perdiem_compute_prefill_seconds_per_token', 'Engine-seconds per prompt token (rolling).');
  const decode = gauge('perdiem_compute_decode_seconds_per_token', 'Engine-seconds per output token (rolling).');
  const image = gauge('perdiem_compute_seconds_per_image', 'Engine-seconds per image (rolling).');
  const samples = gauge('perdiem_compute_samples', 'Requests the compute estimates rest on.');
  const cuTokens = gauge('perdiem_compute_cu_per_1m_tokens', 'Compute units per 1M tokens, by phase.');
  const cuImage = gauge('perdiem_compute_cu_per_image', 'Compute units per image.');
  for (const view of own) {
    const key = { model: view.model, provider: view.provider, kind: view.kind };
    if (view.prefillSecondsPerToken !== null) prefill.series.push({ labels: key, value: view.prefillSecondsPerToken });
    if (view.decodeSecondsPerToken !== null) decode.series.push({ labels: key, value: view.decodeSecondsPerToken });
    if (view.secondsPerImage !== null) image.series.push({ labels: key, value: view.secondsPerImage });
    samples.series.push({ labels: key, value: view.samples });
    if (view.cu.inputPer1MMicroCu !== undefined) {
      cuTokens.series.push({ labels: { ...key, phase: 'input' }, value: formatCu(view.cu.inputPer1MMicroCu) });
    }
    if (view.cu.outputPer1MMicroCu !== undefined) {
      cuTokens.series.push({ labels: { ...key, phase: 'output' }, value: formatCu(view.cu.outputPer1MMicroCu) });
    }
    if (view.cu.perImageMicroCu !== undefined) {
      cuImage.series.push({ labels: key, value: formatCu(view.cu.perImageMicroCu) });
    }
  }
  const out: string[] = [];
  for (const { name, help, series } of [prefill, decode, image, samples, cuTokens, cuImage]) {
    if (series.length === 0) continue;
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
    for (const one of series) out.push(`${name}${labels(one.labels)} ${one.value}`);
  }
  return out.length === 0 ? '' : `${out.join('\n')}\n`;
}
