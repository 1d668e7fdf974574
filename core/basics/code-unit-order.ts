/**
 * Orders strings by UTF-16 code units, as SQLite's default BINARY collation does, so every
 * store lists ids and subjects in the same order.
 */
export function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
