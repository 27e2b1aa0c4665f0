/** The one table `npm run bench` prints: ours, the baseline's figure, the ratio, the target. */
import type { Row } from "./context.js";
import { describeResources } from "./resources.js";
import { fmt } from "./stats.js";

function ratioText(ratio: number): string {
  return ratio >= 100 ? Math.round(ratio).toLocaleString("en-US") : ratio.toFixed(2);
}

/** ours ÷ other, or "n/a": a ratio means nothing against a figure of zero or below (e.g. a frame sent before the 200). */
function ratioOf(ours: number | null, other: number | null | undefined): string {
  return ours !== null && other !== null && other !== undefined && other > 0 ? `${ratioText(ours / other)}×` : "n/a";
}

export function renderTable(rows: readonly Row[], header: string[], footer: string[]): string {
  // A peer's columns (scenario 12) only when some row has a peer figure.
  const peers = rows.some((r) => r.peer !== undefined || r.peerText !== undefined);
  const head = [
    "Scenario", "Metric", "Ours",
    ...(peers ? ["Peer", "Ours ÷ peer"] : []),
    "Baseline", "Ours ÷ base", "Target", "Met", "Ours: CPU % of a core (loop = main thread), pg backends, pg waits",
  ];
  const body: string[][] = [];
  const notes: string[] = [];
  let last = "";
  for (const row of rows) {
    const first = row.scenario !== last;
    last = row.scenario;
    const unit = row.unit ? ` ${row.unit}` : "";
    const ratio = ratioOf(row.ours, row.baseline);
    let mark = "";
    if (row.note) {
      notes.push(row.note);
      mark = ` [${notes.length}]`;
    }
    if (row.peerResources) {
      notes.push(`peer resources (${row.scenario}): ${describeResources(row.peerResources)}`);
      mark += ` [${notes.length}]`;
    }
    if (row.baselineResources) {
      notes.push(`baseline resources (${row.scenario}): ${describeResources(row.baselineResources)}`);
      mark += ` [${notes.length}]`;
    }
    const hasPeer = row.peer !== undefined || row.peerText !== undefined;
    body.push([
      first ? row.scenario : "",
      row.metric + mark,
      row.oursText ?? (row.ours === null ? "n/a" : `${fmt(row.ours)}${unit}`),
      ...(peers
        ? [
            row.peerText ?? (hasPeer && row.peer !== null && row.peer !== undefined ? `${fmt(row.peer)}${unit}` : hasPeer ? "n/a" : ""),
            hasPeer ? ratioOf(row.ours, row.peer) : "",
          ]
        : []),
      row.baselineText ?? (row.baseline === null ? "n/a" : `${fmt(row.baseline)}${unit}`),
      ratio,
      row.target?.text ?? "",
      row.target ? `${row.target.met ? "yes" : "MISSED"}${row.target.detail ? ` (${row.target.detail})` : ""}` : "",
      describeResources(row.resources),
    ]);
  }
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  return [
    ...header,
    "",
    line(head),
    `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`,
    ...body.map(line),
    "",
    ...notes.map((n, i) => `[${i + 1}] ${n}`),
    ...(footer.length ? ["", ...footer] : []),
  ].join("\n");
}
