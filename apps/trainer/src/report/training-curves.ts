import type { StepRecord } from '../train-loop.js';
import { svgLineChart } from './svg-line-chart.js';

/** The run's two charts as inline SVG: train and validation loss (log scale), and the learning rate; the HTML report and the studio draw these. */
export function trainingCurves(records: readonly StepRecord[], validation: Array<[number, number]>, opts: { lrHeight?: number } = {}): { loss: string; lr: string } {
  const loss = svgLineChart({
    title: 'Loss',
    xLabel: 'optimizer step',
    yLabel: 'loss (nats/token)',
    logY: true,
    series: [
      { name: 'train loss', color: '#1f77b4', points: records.map((x) => [x.step, x.loss]) },
      { name: 'validation loss', color: '#d62728', points: validation, markers: true, dashed: true },
    ],
  });
  const lr = svgLineChart({ title: 'Learning rate', xLabel: 'optimizer step', yLabel: 'learning rate', yFromZero: true, height: opts.lrHeight, series: [{ name: 'lr', color: '#2ca02c', points: records.map((x) => [x.step, x.lr]) }] });
  return { loss, lr };
}
