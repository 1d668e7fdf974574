/*
 * The metric names a PromQL expression reads, found by a small tokeniser rather than a full
 * parser: strings, label matchers, ranges, label lists and dashboard variables are removed,
 * then every identifier that is not a function call, a keyword or part of a number is a name.
 */

const KEYWORDS = new Set([
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "bool",
  "and",
  "or",
  "unless",
  "offset",
  "inf",
  "nan",
]);
const IDENTIFIER = /[A-Za-z_:][A-Za-z0-9_:]*/g;

export function metricNamesIn(expression: string): string[] {
  // Grafana's label_values(selector, label): the label is not a metric.
  const query = expression.replace(/^\s*label_values\(([\s\S]*),\s*[A-Za-z_][A-Za-z0-9_]*\s*\)\s*$/, "$1");
  const text = query
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, " ")
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ")
    .replace(/\$\{?[A-Za-z_][A-Za-z0-9_]*(?::[A-Za-z]+)?\}?/g, " ");
  const names = new Set<string>();
  for (const match of text.matchAll(IDENTIFIER)) {
    const before = text[match.index - 1] ?? " ";
    if (/[0-9.]/.test(before)) continue; // 1e3, 0.95, 5m
    const after = text.slice(match.index + match[0].length).trimStart();
    if (after.startsWith("(")) continue; // a function
    if (KEYWORDS.has(match[0].toLowerCase())) continue;
    names.add(match[0]);
  }
  return [...names];
}

/** The names of the series in a Prometheus text exposition (histograms as _bucket, _sum, _count). */
export function seriesNamesIn(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const line of exposition.split("\n")) {
    const name = /^([A-Za-z_:][A-Za-z0-9_:]*)[{ ]/.exec(line)?.[1];
    if (name) names.add(name);
  }
  return names;
}
