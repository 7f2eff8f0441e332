/**
 * How every part of Runlab writes a size, so one dataset version shows the same size in the
 * provenance graph, the Datasets panel and the CLI: powers of 1024 with IEC units, whole bytes
 * below 1 KiB and one decimal above (`512 B`, `1.5 KiB`, `5.0 MiB`). The Python client's
 * `runlab.format.format_bytes` computes the same digits; python/tests/test_format.py checks the
 * two against each other.
 *
 * No imports, so the extension can use it at runtime without pulling zod into its bundle.
 */
const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;

/**
 * The unit is the largest that `bytes` reaches; the number is rounded half up to tenths, and one
 * that rounds to 1024.0 moves to the next unit (`1.0 MiB`, never `1024.0 KiB`). A negative size
 * (a diff's delta) keeps its sign.
 */
export function formatBytes(bytes: number): string {
  if (bytes < 0) return `-${formatBytes(-bytes)}`;
  let unit = 0;
  while (unit < UNITS.length - 1 && bytes >= 1024 ** (unit + 1)) unit++;
  if (unit === 0) return `${Math.round(bytes)} B`;
  let tenths = Math.floor((bytes * 10) / 1024 ** unit + 0.5);
  if (tenths >= 10240 && unit < UNITS.length - 1) {
    unit++;
    tenths = Math.floor((bytes * 10) / 1024 ** unit + 0.5);
  }
  return `${Math.floor(tenths / 10)}.${tenths % 10} ${UNITS[unit]}`;
}
