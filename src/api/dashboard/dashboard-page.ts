/**
 * The dashboard's page (GET /dashboard). Kept as a string module so the build needs no copy step;
 * it loads only /dashboard/app.js from the same origin (no CDN: the machines are offline).
 */
export const DASHBOARD_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>shoal dashboard</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1rem 2rem; color: #1b1f24; background: #f6f8fa; }
  h1 { font-size: 1.3rem; margin: 0 0 .5rem; }
  h2 { font-size: 1.05rem; margin: 1.2rem 0 .4rem; }
  table { border-collapse: collapse; background: #fff; width: 100%; }
  th, td { text-align: left; padding: .25rem .6rem; border-bottom: 1px solid #d0d7de; white-space: nowrap; }
  th { background: #eaeef2; font-weight: 600; }
  td.num { text-align: right; font-variant-numeric: tabular-nums; }
  .mono { font-family: ui-monospace, monospace; font-size: 12px; }
  #node { margin-bottom: .6rem; }
  #live { display: inline-block; padding: 0 .4rem; border-radius: 3px; background: #d0d7de; }
  #live.on { background: #2da44e; color: #fff; }
  .content { background: #fff; border: 1px solid #d0d7de; margin: .6rem 0; padding: .5rem .8rem; }
  .chunkmap { display: flex; flex-wrap: wrap; gap: 1px; margin: .4rem 0; }
  .chunk { width: 8px; height: 8px; background: #d0d7de; }
  .chunk.held { background: #2da44e; }
  .chunk.inflight { background: #d4a72c; }
  .legend span { margin-right: 1rem; }
  .banned { color: #cf222e; font-weight: 600; }
</style>
</head>
<body>
<h1>shoal <span id="live">connecting</span></h1>
<div id="node" class="mono"></div>
<h2>Contents</h2>
<table id="contents"><thead><tr><th>name</th><th>state</th><th>progress</th><th>rate</th><th>ETA</th><th>from peers</th><th>from origin</th><th>upstream</th><th>peers</th></tr></thead><tbody></tbody></table>
<div id="maps"></div>
<h2>Peers</h2>
<table id="peers"><thead><tr><th>peer</th><th>content</th><th>received from it</th><th>rate in</th><th>sent to it</th><th>rate out</th><th>notes</th></tr></thead><tbody></tbody></table>
<script type="module" src="/dashboard/app.js"></script>
</body>
</html>
`
