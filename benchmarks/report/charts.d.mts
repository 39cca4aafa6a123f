/** Types of charts.mjs (SVG charts for the benchmark report). */
export interface ChartSeries {
  name: string;
  values: (number | null)[];
}
export function barChart(c: { title: string; yLabel: string; groups: string[]; series: ChartSeries[] }): string;
export function lineChart(c: { title: string; yLabel: string; xLabel: string; xs: (number | string)[]; series: ChartSeries[] }): string;
