// The dashboard's stylesheet, served by the coordinator itself. Narrow
// screens get one column and tables that scroll sideways; every focusable
// element shows where the keyboard is.
export const STYLE = `
:root { --fg: #1d2125; --muted: #5f6b76; --bg: #f7f8fa; --card: #fff; --line: #d9dee3;
  --accent: #0b57d0; --ok: #137333; --bad: #b3261e; --warn: #8a5a00; --run: #0b57d0; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
a { color: var(--accent); }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
.skip { position: absolute; left: -999px; top: 0; background: var(--card); padding: .5em; }
.skip:focus { left: .5em; z-index: 2; }
header { display: flex; flex-wrap: wrap; align-items: center; justify-content: space-between; gap: .5em;
  padding: .5em 1em; background: #1d2125; color: #fff; }
header nav { display: flex; flex-wrap: wrap; gap: .25em 1em; align-items: center; }
header a { color: #fff; text-decoration: none; padding: .25em 0; }
header a[aria-current="page"] { border-bottom: 2px solid #8ab4f8; }
header .brand { font-weight: 700; letter-spacing: .05em; }
.who { display: flex; gap: .5em; align-items: center; margin: 0; font-size: .9em; color: #cfd6dd; }
main { max-width: 1200px; margin: 0 auto; padding: 1em; }
main:focus { outline: none; }
h1 { font-size: 1.4em; margin: .2em 0 .6em; word-break: break-all; }
h2 { font-size: 1.1em; margin: 1.2em 0 .4em; }
.grid { display: grid; gap: 1em; grid-template-columns: repeat(auto-fit, minmax(280px, 1fr)); }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: .8em 1em; min-width: 0; }
.card h2 { margin-top: 0; }
main > section, main > div > section, main > div > figure { margin-bottom: 1em; }
.grid { margin-bottom: 1em; }
.grid > section { margin-bottom: 0; }
figure { margin: 0; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; background: var(--card); }
th, td { text-align: left; padding: .35em .6em; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; color: var(--muted); font-size: .9em; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
code, .mono, pre { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: .9em; }
.path { word-break: break-all; }
.muted { color: var(--muted); }
.state { display: inline-block; padding: 0 .5em; border-radius: 1em; font-size: .85em; font-weight: 600; border: 1px solid; }
.state-succeeded { color: var(--ok); } .state-failed { color: var(--bad); } .state-canceled { color: var(--muted); }
.state-queued { color: var(--warn); } .state-allocated, .state-started { color: var(--run); }
.tag { display: inline-block; background: #eef1f4; border-radius: 4px; padding: 0 .4em; margin: 0 .2em .2em 0; font-size: .85em; }
form.filters { display: grid; gap: .6em; grid-template-columns: repeat(auto-fit, minmax(180px, 1fr)); align-items: end;
  background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: .8em; margin-bottom: 1em; }
label { display: flex; flex-direction: column; gap: .2em; font-size: .9em; color: var(--muted); }
fieldset { border: 0; padding: 0; margin: 0; }
fieldset label { flex-direction: row; align-items: center; gap: .3em; color: var(--fg); }
input, select, button { font: inherit; padding: .35em .5em; border: 1px solid var(--line); border-radius: 6px; background: #fff; }
button { cursor: pointer; background: var(--accent); color: #fff; border-color: var(--accent); }
button.danger { background: var(--bad); border-color: var(--bad); }
.who button { background: transparent; border-color: #8a96a3; color: #fff; padding: .1em .5em; }
.actions { display: flex; flex-wrap: wrap; gap: .6em; align-items: end; margin: .6em 0; }
.actions form { display: flex; gap: .4em; align-items: end; margin: 0; }
.pager { display: flex; gap: 1em; margin: 1em 0; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .3em 1em; margin: 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; min-width: 0; word-break: break-all; }
pre.log { background: #111417; color: #e8eaed; padding: .8em; border-radius: 8px; max-height: 70vh; overflow: auto;
  white-space: pre-wrap; word-break: break-all; margin: 0; }
.error { border-left: 4px solid var(--bad); background: #fdecea; padding: .6em 1em; border-radius: 4px; }
.chart { width: 100%; height: auto; display: block; }
.chart rect { fill: var(--accent); }
.chart rect.bad { fill: var(--bad); }
.chart text { font-size: 10px; fill: var(--muted); }
.login { max-width: 420px; }
.login form { display: flex; flex-direction: column; gap: .8em; }
@media (max-width: 600px) {
  main { padding: .6em; }
  th, td { padding: .3em .4em; }
  .hide-narrow { display: none; }
}
`;
