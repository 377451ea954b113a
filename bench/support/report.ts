import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';

/** Percentiles, aligned tables and the JSON files under bench/results. */

export const RESULTS_DIR = fileURLToPath(new URL('../results/', import.meta.url));

export interface Spread {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentile of an unsorted list (0 for an empty one). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] as number;
}

export function spread(values: readonly number[]): Spread {
  return {
    n: values.length,
    p50: percentile(values, 50),
    p99: percentile(values, 99),
    max: values.length ? Math.max(...values) : 0,
  };
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

export const round = (value: number, digits = 1): number => Number(value.toFixed(digits));
export const MiB = 1024 * 1024;
export const toMiB = (bytes: number): number => round(bytes / MiB, 1);

/** Where the figures came from, saved with every result. */
export function machine(): { nproc: number; cpu: string; node: string; platform: string } {
  const all = cpus();
  return {
    nproc: all.length,
    cpu: all[0]?.model.trim() ?? 'unknown',
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  };
}

export function printTable(title: string, rows: Record<string, unknown>[]): void {
  console.log(`\n${title}`);
  if (rows.length === 0) {
    console.log('  (no rows)');
    return;
  }
  const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
  const cell = (value: unknown) => (value === undefined ? '' : String(value));
  const widths = columns.map((column) =>
    Math.max(column.length, ...rows.map((row) => cell(row[column]).length)),
  );
  const line = (cells: string[]) =>
    `  ${cells.map((text, index) => (index === 0 ? text.padEnd(widths[index] ?? 0) : text.padStart(widths[index] ?? 0))).join('  ')}`;
  console.log(line(columns));
  console.log(line(widths.map((width) => '-'.repeat(width))));
  for (const row of rows) console.log(line(columns.map((column) => cell(row[column]))));
}

export function saveResult(name: string, result: object): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = `${RESULTS_DIR}${name}.json`;
  const document = { bench: name, ranAt: new Date().toISOString(), machine: machine(), ...result };
  writeFileSync(file, `${JSON.stringify(document, null, 2)}\n`);
  return file;
}

/** "met" / "missed" against a target where lower is better. */
export function verdict(value: number, target: number): string {
  return value <= target ? 'met' : 'missed';
}
