/** Writing Python source from JavaScript values, for the silent expressions kernels evaluate. */

/** A JavaScript string as a Python string literal (JSON's escapes are valid Python). */
export function pythonString(value: string): string {
  return JSON.stringify(value);
}
