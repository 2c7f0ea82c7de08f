"""cli.py: the `conformance/run` command: selects cases, runs them against an implementation, reports."""
import argparse
import fnmatch
import json
import os
import sys

from . import casefile, report, runner

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = os.path.normpath(os.path.join(HERE, "..", "cases"))
MAX_CASE_BYTES = 16 << 20  # the largest case of the suite is under 1 MiB


def load_cases(root):
    """Every case under root; fails if the manifest and the files disagree."""
    cases = []
    for dirpath, _, files in os.walk(root):
        for name in sorted(files):
            if name.endswith(".json") and not name.startswith("manifest"):
                path = os.path.join(dirpath, name)
                try:
                    with open(path, "rb") as f:
                        c = casefile.parse(f.read(MAX_CASE_BYTES + 1).decode("utf-8"), os.path.relpath(path, root))
                    if os.path.getsize(path) > MAX_CASE_BYTES:
                        raise casefile.CaseFileError("%s: larger than %d bytes" % (os.path.relpath(path, root), MAX_CASE_BYTES))
                except UnicodeDecodeError as e:
                    sys.exit("conformance/run: %s: not UTF-8: %s" % (os.path.relpath(path, root), e))
                except (casefile.CaseFileError, OSError) as e:
                    sys.exit("conformance/run: a case file is not a case: %s" % e)
                if c["case"] + ".json" != os.path.relpath(path, root):
                    sys.exit("conformance/run: %s holds the case %r: a case file is named for its case"
                             % (os.path.relpath(path, root), c["case"]))
                c["_path"] = os.path.relpath(path, root)
                cases.append(c)
    cases.sort(key=lambda c: c["case"])
    manifest = os.path.join(root, "manifest-v1.json")
    if os.path.exists(manifest):
        with open(manifest) as f:
            listed = set(json.load(f)["cases"])
        found = {c["case"] for c in cases}
        if listed != found:
            sys.exit("conformance/run: the manifest and the case files disagree: missing files %s, unlisted files %s"
                     % (sorted(listed - found)[:5], sorted(found - listed)[:5]))
    return cases


def load_xfail(path):
    """Expected failures: one case id per line, '#' starts a comment."""
    out = {}
    with open(path) as f:
        for line in f:
            body, _, why = line.partition("#")
            if body.strip():
                out[body.strip()] = why.strip()
    return out


# What --node can declare: the parts of Node.js's channel that spec NODE-3 and NODE-16 let an implementation leave out.
NODE_PARTS = ("advanced", "handles")


def node_list(text):
    """--node's value: a set of NODE_PARTS."""
    parts = {p.strip() for p in text.split(",") if p.strip()}
    bad = sorted(parts - set(NODE_PARTS))
    if bad:
        raise argparse.ArgumentTypeError("unknown %s; one of: %s" % (", ".join(bad), ", ".join(NODE_PARTS)))
    return parts


def main(argv=None):
    ap = argparse.ArgumentParser(prog="conformance/run", description="Run the Cord conformance suite against an implementation.")
    who = ap.add_mutually_exclusive_group(required=True)
    who.add_argument("--child", metavar="CMD", help="test a child: the command line that starts it")
    who.add_argument("--parent", metavar="CMD", help="test a parent: the command line that starts its testee (the child command is appended)")
    ap.add_argument("--cases", metavar="DIR", default=CASES, help="where the cases are (default: %(default)s)")
    ap.add_argument("--run", metavar="GLOB", action="append", help="run only cases whose id matches (repeatable)")
    ap.add_argument("--skip", metavar="GLOB", action="append", default=[], help="skip cases whose id matches (repeatable)")
    ap.add_argument("--binding", choices=["cord", "node-json", "node-advanced", "node", "all"], default="cord",
                    help="which binding's cases to run; `node`: both of Node.js's (default: %(default)s)")
    ap.add_argument("--node", metavar="LIST", type=node_list, default=set(),
                    help="what of Node.js's channel the implementation speaks beyond json, comma-separated: "
                         "advanced, handles; the cases that need more are skipped (default: none)")
    ap.add_argument("--strict", action="store_true", help="fail cases whose recommended (SHOULD) outcomes are not met")
    ap.add_argument("--timeout-ms", type=int, default=60000, help="per-case time limit unless the case sets one (default: %(default)s)")
    ap.add_argument("--timeout-scale", type=float, default=1.0, metavar="F",
                    help="multiply every case's time limit by F, for slow harnesses such as valgrind (default: %(default)s)")
    ap.add_argument("--xfail", metavar="FILE", help="expected failures; the run fails if one of them passes")
    ap.add_argument("--report", metavar="DIR", help="write results.json, junit.xml and index.html here")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every case's wire log, passing ones too")
    opts = ap.parse_args(argv)

    role = "child" if opts.child else "parent"
    command = opts.child or opts.parent
    xfail = load_xfail(opts.xfail) if opts.xfail else {}
    selected = []
    for c in load_cases(opts.cases):
        if c["role"] != role:
            continue
        b = c.get("binding", "cord")
        if opts.binding not in ("all", b) and not (opts.binding == "node" and b.startswith("node-")):
            continue
        if opts.run and not any(fnmatch.fnmatch(c["case"], g) for g in opts.run):
            continue
        if any(fnmatch.fnmatch(c["case"], g) for g in opts.skip):
            continue
        selected.append(c)

    results = []
    for c in selected:
        res = runner.run_case(c, command, opts)
        if c["case"] in xfail:
            if res.verdict == "failed":
                res.verdict = "xfail"
                res.reason = "expected failure: " + xfail[c["case"]] + "; " + res.reason
            elif res.verdict in ("passed", "non-strict"):
                res.verdict = "xpass"
                res.reason = "listed as an expected failure, but it passed: remove it from " + opts.xfail
        results.append(res)
        print(report.console_line(res, opts.verbose), flush=True)
    stale = [k for k in xfail if k not in {c["case"] for c in selected}]
    for k in stale:
        print("STALE  %s is in %s but no selected case has that id" % (k, opts.xfail))

    n = report.counts(results, opts.strict)
    n["failed"] += len(stale)
    meta = {"role": role, "command": command, "strict": opts.strict, "date": report.now(),
            "binding": opts.binding, "node": sorted(opts.node), "cases": opts.cases}
    if opts.report:
        report.write_all(opts.report, results, meta, opts.strict)
        print("report: %s" % os.path.join(opts.report, "index.html"))
    print("conformance of %s %s:" % (role, command))
    print("%d passed, %d failed, %d skipped" % (n["passed"], n["failed"], n["skipped"]))
    if not selected:
        print("no case selected", file=sys.stderr)
        return 2
    return 1 if n["failed"] else 0
