/** The report page's stylesheet, inlined so the page is one self-contained file. */
export const REPORT_CSS = `
:root { --ink:#1d2330; --muted:#667085; --line:#e4e7ec; --bg:#f6f7f9; --card:#fff;
  --ok:#12805c; --ok-bg:#e3f5ec; --bad:#c4320a; --bad-bg:#fdece7; --accent:#3556d4; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink);
  font:15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width:1120px; margin:0 auto; padding:28px 24px 48px; }
header { display:flex; align-items:flex-start; justify-content:space-between; gap:24px; margin-bottom:20px; }
h1 { font-size:26px; margin:0 0 4px; letter-spacing:-0.01em; }
h2 { font-size:18px; margin:0 0 12px; }
.sub { color:var(--muted); font-size:13.5px; }
.verdict { font-weight:700; font-size:15px; padding:10px 18px; border-radius:999px; white-space:nowrap; }
.verdict.pass { background:var(--ok-bg); color:var(--ok); }
.verdict.fail { background:var(--bad-bg); color:var(--bad); }
section.card { background:var(--card); border:1px solid var(--line); border-radius:12px; padding:20px 22px; margin:16px 0;
  box-shadow:0 1px 2px rgba(16,24,40,.04); }
.figures { display:grid; grid-template-columns:repeat(4, 1fr); gap:12px; margin:8px 0 4px; }
.figure { background:var(--card); border:1px solid var(--line); border-radius:12px; padding:14px 16px; border-top:4px solid var(--line); }
.figure.ok { border-top-color:var(--ok); } .figure.bad { border-top-color:var(--bad); }
.figure .label { color:var(--muted); font-size:12.5px; text-transform:uppercase; letter-spacing:.04em; }
.figure .value { font-size:26px; font-weight:650; margin-top:2px; font-variant-numeric:tabular-nums; }
.figure .note { color:var(--muted); font-size:12.5px; }
table { border-collapse:collapse; width:100%; font-variant-numeric:tabular-nums; }
th, td { text-align:left; padding:7px 10px; border-bottom:1px solid var(--line); }
th { color:var(--muted); font-weight:600; font-size:12.5px; text-transform:uppercase; letter-spacing:.03em; }
td.num, th.num { text-align:right; }
.pill { display:inline-block; padding:2px 10px; border-radius:999px; font-size:12.5px; font-weight:650; }
.pill.met { background:var(--ok-bg); color:var(--ok); } .pill.not-met { background:var(--bad-bg); color:var(--bad); }
tr.not-met td { background:#fff8f6; }
.legend { display:flex; flex-wrap:wrap; gap:18px; color:var(--muted); font-size:13px; margin-top:8px; }
.legend i { display:inline-block; width:14px; height:10px; border-radius:2px; margin-right:6px; vertical-align:baseline; }
details summary { cursor:pointer; color:var(--accent); margin-top:12px; }
.warnings { margin-top:16px; padding:10px 14px; background:#fffaeb; border:1px solid #fedf89; border-radius:8px; color:#93370d; font-size:13.5px; }
.warnings ul { margin:6px 0 0; padding-left:20px; }
.problems li { color:var(--bad); font-family:ui-monospace, monospace; font-size:13px; }
.help { color:var(--muted); font-size:13.5px; } .help b, .help h2 { color:var(--ink); }
svg text { font-family:system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; font-size:12px; fill:var(--ink); }
svg .band { fill:transparent; } svg .lobby-row:nth-child(odd) .band { fill:#f8f9fb; }
svg .band.rest { fill:#f1f4fa; }
svg .row-label { font-family:ui-monospace, SFMono-Regular, Menlo, monospace; font-size:12px; }
svg .route { fill:var(--muted); }
svg .grid { stroke:#eef0f4; } svg .axis { stroke:#c9ced8; }
svg .tick { fill:var(--muted); font-size:11px; } svg .axis-title { fill:var(--muted); font-size:11.5px; }
svg .ack { stroke-width:1; fill:none; } svg .ack.before { stroke:#9aa8c7; } svg .ack.after { stroke:#2e9e6f; }
svg .outage { fill:#f79009; fill-opacity:.78; } svg .outage.lost { fill:var(--bad); }
svg .welcome { fill:#fff; stroke:#b54708; stroke-width:1.5; }
svg .bar-value { font-weight:600; font-size:11.5px; paint-order:stroke; stroke:#fff; stroke-width:3px; stroke-linejoin:round; } svg .bar-value.lost { fill:var(--bad); }
svg .bar-value.inside { fill:#fff; stroke:none; }
svg .kill { stroke:var(--bad); stroke-width:2; } svg .kill-label { fill:var(--bad); font-weight:650; }
svg .target { stroke:#7a5af8; stroke-dasharray:4 4; } svg .target-label { fill:#6941c6; font-size:11px; }
svg .bin { fill:#3556d4; fill-opacity:.85; } svg .bin.lost { fill:var(--bad); }
svg .bin-count { fill:var(--muted); font-size:11px; }
@media (max-width: 760px) { .figures { grid-template-columns:repeat(2, 1fr); } }
`;
