"""report.py: the suite's reports: a line per case, a summary, JSON, JUnit XML, and an HTML page per run."""
import datetime
import html
import json
import os
from xml.sax.saxutils import escape, quoteattr


TAGS = {"passed": "PASS", "failed": "FAIL", "skipped": "SKIP", "non-strict": "PASS*", "xfail": "XFAIL",
        "xpass": "XPASS"}


def wire_lines(log, indent, last=None, width=None):
    """The wire log for a person: each entry decoded, with its bytes on the line below, both cut at `width`."""
    def cut(s):
        return s if width is None or len(s) <= width else s[:width] + " ..."
    out = []
    for t, d, h, dec in (log[-last:] if last else log):
        out.append("%s%8.3fs %-6s %s" % (indent, t, d, cut(dec)))
        if h:
            out.append("%s%16s %s" % (indent, "", cut(h)))
    return out


def console_line(res, verbose):
    c = res.case
    lines = ["%-6s %s [%s]" % (TAGS[res.verdict], c["case"], " ".join(c.get("checks", [])))]
    pad = " " * 9
    if res.reason and (res.verdict != "passed" or verbose):
        lines.append(pad + res.reason)
    if res.verdict in ("failed", "xfail"):
        if res.expected:
            lines.append(pad + "expected: " + res.expected[:300])
        if res.actual:
            lines.append(pad + "actual:   " + res.actual[:300])
        if res.actual_hex:
            lines.append(pad + "          " + res.actual_hex[:300])
    if res.log and (res.verdict == "failed" or verbose):
        shown = None if verbose else 12
        lines.append(pad + ("wire:" if verbose or len(res.log) <= 12 else "wire (the last 12 entries):"))
        lines += wire_lines(res.log, pad + "  ", shown, 160)
    if res.stderr.strip() and (res.verdict == "failed" or verbose):
        lines.append(pad + "stderr: " + res.stderr.strip()[-600:].replace("\n", "\n" + pad + "        "))
    return "\n".join(lines)


def counts(results, strict):
    n = {"passed": 0, "failed": 0, "skipped": 0}
    for r in results:
        v = r.verdict
        if v in ("passed", "xfail") or (v == "non-strict" and not strict):
            n["passed"] += 1
        elif v == "skipped":
            n["skipped"] += 1
        else:
            n["failed"] += 1
    return n


def to_json(results, meta):
    return {
        "meta": meta,
        "results": [{
            "case": r.case["case"], "title": r.case.get("title", ""), "role": r.case["role"],
            "binding": r.case.get("binding", "cord"), "level": r.case.get("level", "required"),
            "checks": r.case.get("checks", []), "verdict": r.verdict, "reason": r.reason,
            "expected": r.expected, "actual": r.actual, "actual_hex": r.actual_hex, "seconds": r.seconds,
            "should_misses": [{"checks": ids, "what": t} for ids, t in r.misses],
            "wire": [{"t": t, "dir": d, "hex": h, "decoded": dec} for t, d, h, dec in r.log],
            "stderr": r.stderr,
        } for r in results],
    }


def junit(results, meta, strict):
    n = counts(results, strict)
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<testsuite name=%s tests="%d" failures="%d" skipped="%d" time="%.3f">' % (
               quoteattr("cord-conformance " + meta["role"]), len(results), n["failed"], n["skipped"],
               sum(r.seconds for r in results))]
    for r in results:
        c = r.case
        out.append('  <testcase classname=%s name=%s time="%.3f">' % (
            quoteattr("conformance." + c["case"].split("/")[0]), quoteattr(c["case"]), r.seconds))
        failed = r.verdict in ("failed", "xpass") or (r.verdict == "non-strict" and strict)
        if failed:
            body = "expected: %s\nactual: %s\n          %s\n" % (r.expected, r.actual, r.actual_hex)
            body += "\n".join(wire_lines(r.log, ""))
            out.append('    <failure message=%s>%s</failure>' % (quoteattr(r.reason), escape(body)))
        elif r.verdict == "skipped":
            out.append('    <skipped message=%s/>' % quoteattr(r.reason))
        out.append('    <properties><property name="checks" value=%s/></properties>' %
                   quoteattr(" ".join(c.get("checks", []))))
        out.append('  </testcase>')
    out.append('</testsuite>')
    return "\n".join(out) + "\n"


STYLE = """body{font:14px/1.4 system-ui,sans-serif;margin:2em;max-width:75em}
table{border-collapse:collapse}td,th{padding:.2em .6em;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}
.passed,.xfail{color:#176f2c}.failed,.xpass{color:#b3261e}.skipped{color:#777}.non-strict{color:#8a6d00}
pre{background:#f6f6f6;padding:.6em;overflow-x:auto;font-size:12px}.case{margin:1.5em 0;padding-top:.5em;border-top:2px solid #ccc}
code{font-size:12px}"""


ORDER = {"failed": 0, "xpass": 0, "non-strict": 1, "xfail": 2, "skipped": 3, "passed": 4}


def html_page(results, meta, strict):
    n = counts(results, strict)
    e = html.escape
    # Failures first: they are what a reader of the report is looking for.
    results = sorted(results, key=lambda r: (ORDER.get(r.verdict, 5), r.case["case"]))
    rows = []
    for r in results:
        c = r.case
        rows.append('<tr><td><a href="#%s">%s</a></td><td>%s</td><td>%s</td><td class="%s">%s</td><td>%s</td></tr>' % (
            e(c["case"]), e(c["case"]), e(c.get("level", "")), e(" ".join(c.get("checks", []))), e(r.verdict),
            e(r.verdict), e(c.get("title", ""))))
    cases = []
    for r in results:
        c = r.case
        wire = "\n".join(wire_lines(r.log, ""))
        cases.append("""<div class="case" id="%s"><h3>%s <span class="%s">%s</span></h3>
<p>%s</p><p><b>Checks</b> %s &middot; <b>level</b> %s &middot; <b>role under test</b> %s &middot; <b>binding</b> %s</p>
<blockquote>%s</blockquote><p><b>Origin</b> %s</p>%s%s<pre>%s</pre>%s</div>""" % (
            e(c["case"]), e(c["case"]), e(r.verdict), e(r.verdict), e(c.get("title", "")),
            e(" ".join(c.get("checks", []))), e(c.get("level", "")), e(c["role"]), e(c.get("binding", "cord")),
            e(c.get("requirement", "")), e(c.get("origin", "")),
            "<p><b>Why</b> %s</p>" % e(r.reason) if r.reason else "",
            "<p><b>Expected</b> <code>%s</code><br><b>Actual</b> <code>%s</code><br><code>%s</code></p>" % (
                e(r.expected), e(r.actual), e(r.actual_hex)) if r.verdict in ("failed", "xfail") else "", e(wire),
            "<p><b>stderr</b></p><pre>%s</pre>" % e(r.stderr) if r.stderr.strip() else ""))
    return """<!doctype html><html><head><meta charset="utf-8"><title>Cord conformance: %s</title><style>%s</style></head>
<body><h1>Cord conformance</h1><p>Implementation under test: <code>%s</code> as a <b>%s</b>; %s; %s.</p>
<h2>%d passed, %d failed, %d skipped</h2><table><tr><th>case</th><th>level</th><th>checks</th><th>verdict</th><th>title</th></tr>
%s</table>%s</body></html>
""" % (e(meta["command"]), STYLE, e(meta["command"]), e(meta["role"]), "strict" if strict else "not strict",
       e(meta["date"]), n["passed"], n["failed"], n["skipped"], "\n".join(rows), "\n".join(cases))


def write_all(directory, results, meta, strict):
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "results.json"), "w") as f:
        json.dump(to_json(results, meta), f, indent=1)
    with open(os.path.join(directory, "junit.xml"), "w") as f:
        f.write(junit(results, meta, strict))
    with open(os.path.join(directory, "index.html"), "w") as f:
        f.write(html_page(results, meta, strict))


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
