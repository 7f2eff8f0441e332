/**
 * How every part of Runlab writes a size, so one dataset version shows the same size in the
 * provenance graph, the Datasets panel and the CLI: powers of 1024 with IEC units, whole bytes
 * below 1 KiB, one decimal above. The Python client's `format_bytes` follows the
 * same rule (python/runlab/format.py), and a test checks both against the same table.
 *
 * No imports, so the extension can use it at runtime without pulling zod into its bundle.
 */
const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;

/** 512 → `512 B`, 1536 → `1.5 KiB`, 5242880 → `5.0 MiB`. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  if (unit === 0) return `${bytes} B`;
  return `${value.toFixed(1)} ${UNITS[unit]}`;
}
