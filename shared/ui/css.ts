/**
 * The one stylesheet, inline in every page: nothing is fetched from
 * elsewhere. Colours come from custom properties switched by
 * prefers-color-scheme; wide tables scroll inside their own box so a phone
 * never scrolls the page sideways.
 */
export const CSS = `
:root { color-scheme: light dark; --bg: #ffffff; --fg: #1b1f24; --muted: #57606a; --line: #d0d7de;
  --head: #f6f8fa; --link: #0550ae; --focus: #bf3989; --bad: #a40e26; --bad-bg: #ffebe9;
  --ok: #116329; --warn: #7d4e00; --warn-bg: #fff8c5; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #0d1117; --fg: #e6edf3; --muted: #9198a1; --line: #30363d; --head: #161b22;
    --link: #79c0ff; --focus: #ff7bbd; --bad: #ffa198; --bad-bg: #3c0b0b; --ok: #56d364;
    --warn: #e3b341; --warn-bg: #2f2305; }
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; background: var(--bg); color: var(--fg);
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
header { border-bottom: 1px solid var(--line); background: var(--head); }
nav { display: flex; flex-wrap: wrap; gap: .25rem 1rem; align-items: center; max-width: 80rem;
  margin: 0 auto; padding: .6rem 1rem; }
nav .brand { font-weight: 700; }
main { max-width: 80rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.4rem; margin: .2rem 0 1rem; overflow-wrap: anywhere; }
h2 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; }
a { color: var(--link); }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, summary:focus-visible {
  outline: 3px solid var(--focus); outline-offset: 2px; }
.table-wrap { overflow-x: auto; max-width: 100%; }
caption { text-align: left; caption-side: top; padding: .2rem 0; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; }
th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid var(--line);
  vertical-align: top; overflow-wrap: break-word; }
thead th { background: var(--head); font-weight: 600; white-space: nowrap; }
tbody th { font-weight: 500; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.muted { color: var(--muted); }
.overdue { background: var(--bad-bg); }
.badge { display: inline-block; padding: 0 .45rem; border-radius: 1rem; font-size: .85em;
  border: 1px solid currentColor; white-space: nowrap; }
.bad, .phase-Failed, .verdict-failed, .outcome-failed { color: var(--bad); }
.phase-Completed, .verdict-passed { color: var(--ok); }
.phase-PartiallyFailed, .warn, .outcome-skipped { color: var(--warn); }
.notice { background: var(--warn-bg); padding: .5rem .75rem; border-radius: .3rem; }
pre { background: var(--head); border: 1px solid var(--line); padding: .75rem; overflow-x: auto;
  font-size: .85rem; max-width: 100%; }
form { display: flex; flex-wrap: wrap; gap: .5rem; align-items: end; margin: .5rem 0 1rem; }
label { display: flex; flex-direction: column; gap: .15rem; font-size: .9rem; }
input, select, button { font: inherit; padding: .3rem .5rem; color: var(--fg); background: var(--bg);
  border: 1px solid var(--line); border-radius: .3rem; max-width: 100%; }
button { cursor: pointer; background: var(--head); }
details { margin: .25rem 0; }
summary { cursor: pointer; }
ul.plain { list-style: none; padding-left: 0; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; }
dt { color: var(--muted); }
dd { margin: 0; overflow-wrap: anywhere; }
`;
