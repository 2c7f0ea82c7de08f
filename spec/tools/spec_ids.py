#!/usr/bin/env python3
"""spec_ids.py: lists the requirement ids of spec/, and fails on duplicates, dangling references or untagged normative text.

Usage:
  spec_ids.py check [SPEC.md ...]   check the spec (the default command)
  spec_ids.py list  [SPEC.md ...]   print one line per id: id, section, level, first words
  spec_ids.py json  [SPEC.md ...]   print the ids as JSON
  spec_ids.py coverage CASES_DIR [SPEC.md ...]
                                    check that every case cites only ids that exist, and that
                                    every MUST-level id is checked by a case or listed in the
                                    spec's table of requirements the suite cannot observe

An id is "[AREA-N]" at the start of a paragraph or list item; it covers
that paragraph or item. Every paragraph or item outside section 1 that
uses an RFC 2119 keyword in capitals must start with an id, and every id
cited elsewhere ("see FRAME-3") must exist.
"""
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SPECS = [os.path.join(HERE, "..", "cord-v1.md")]

ID_AT_START = re.compile(r"^\s*(?:[-*]\s+)?\[([A-Z]+-[0-9]+)\]")
ID_ANYWHERE = re.compile(r"\b([A-Z]{2,8}-[0-9]+)\b")
KEYWORDS = re.compile(r"\b(MUST NOT|MUST|SHALL NOT|SHALL|SHOULD NOT|SHOULD|REQUIRED|RECOMMENDED|MAY|OPTIONAL)\b")
LEVELS = ["MUST", "SHOULD", "MAY"]
# Sections whose text is about the keywords rather than normative.
EXEMPT_SECTIONS = ("1. Conventions",)


def paragraphs(path):
    """Yields (section, first_line_number, text) for each paragraph or list item, skipping code blocks and tables."""
    section = ""
    buf, start = [], 0
    in_code = False
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    for n, line in enumerate(lines, 1):
        if line.startswith("```"):
            if buf:
                yield section, start, " ".join(buf)
                buf = []
            in_code = not in_code
            continue
        if in_code:
            continue
        if line.startswith("#"):
            if buf:
                yield section, start, " ".join(buf)
                buf = []
            section = line.lstrip("#").strip()
            continue
        new_item = re.match(r"^\s*[-*]\s+|^\s*\[[A-Z]+-[0-9]+\]", line) is not None
        if not line.strip() or line.lstrip().startswith("|") or (new_item and buf):
            if buf:
                yield section, start, " ".join(buf)
                buf = []
            if not line.strip() or line.lstrip().startswith("|"):
                continue
        if not buf:
            start = n
        buf.append(line.strip())
    if buf:
        yield section, start, " ".join(buf)


def collect(paths):
    ids, problems, cited = {}, [], []
    for path in paths:
        rel = os.path.relpath(path)
        last_id = None
        for section, line, text in paragraphs(path):
            m = ID_AT_START.match(text)
            if m:
                rid = m.group(1)
                kws = KEYWORDS.findall(text)
                level = next((lv for lv in LEVELS if any(k.startswith(lv) for k in kws)), None)
                if rid in ids:
                    problems.append(f"{rel}:{line}: duplicate id {rid} (first at {ids[rid]['where']})")
                else:
                    ids[rid] = {
                        "id": rid,
                        "where": f"{rel}:{line}",
                        "section": section,
                        "level": level or "MUST",
                        "text": ID_AT_START.sub("", text, count=1).strip(),
                    }
                if not kws:
                    problems.append(f"{rel}:{line}: {rid} has no RFC 2119 keyword")
                last_id = rid if text.rstrip().endswith(":") else None
                body = ID_AT_START.sub("", text, count=1)
            else:
                body = text
                # The items of a list that an id'd paragraph introduces
                # (it ends with ':') belong to that id.
                continues = last_id is not None and text.lstrip().startswith(("- ", "* "))
                if not continues:
                    last_id = None
                if (KEYWORDS.search(text) and not continues
                        and not section.startswith(EXEMPT_SECTIONS)):
                    problems.append(f"{rel}:{line}: normative text without an id: {text[:70]!r}")
            for c in ID_ANYWHERE.findall(body):
                cited.append((rel, line, c))
    known_areas = {i.split("-")[0] for i in ids}
    for rel, line, c in cited:
        if c.split("-")[0] in known_areas and c not in ids:
            problems.append(f"{rel}:{line}: cites {c}, which does not exist")
    return ids, problems


EXEMPT_ROW = re.compile(r"^\|\s*([A-Z]+-[0-9]+)\s*\|\s*([^|]+?)\s*\|")


def exemptions(paths):
    """Ids in the table that follows CONF-3: {id: reason}."""
    out = {}
    for path in paths:
        in_table = False
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.startswith("[CONF-3]"):
                    in_table = True
                elif in_table and line.startswith("#"):
                    break
                elif in_table:
                    m = EXEMPT_ROW.match(line)
                    if m:
                        out[m.group(1)] = m.group(2)
    return out


def coverage(cases_dir, paths):
    ids, problems = collect(paths)
    exempt = exemptions(paths)
    covered = {}
    ncases = 0
    for dirpath, _, files in os.walk(cases_dir):
        for name in files:
            if not name.endswith(".json") or name.startswith("manifest"):
                continue
            path = os.path.join(dirpath, name)
            with open(path, encoding="utf-8") as f:
                case = json.load(f)
            ncases += 1
            checks = case.get("checks", [])
            if not checks:
                problems.append("%s: checks no spec id" % path)
            for c in checks:
                if c not in ids:
                    problems.append("%s: cites %s, which the spec does not define" % (path, c))
                covered.setdefault(c, []).append(case.get("case", name))
    for e in exempt:
        if e not in ids:
            problems.append("the exemption table lists %s, which does not exist" % e)
        elif e in covered:
            problems.append("%s is listed as unobservable but cases check it: %s" % (e, ", ".join(covered[e][:3])))
    must = [i for i, v in ids.items() if v["level"] == "MUST"]
    missing = [i for i in must if i not in covered and i not in exempt]
    for i in missing:
        problems.append("%s (MUST, %s) is checked by no case and not exempted" % (i, ids[i]["where"]))
    should = [i for i, v in ids.items() if v["level"] != "MUST"]
    print("coverage: %d cases; MUST ids: %d, covered %d, exempted %d, uncovered %d (%.0f%% of the observable); "
          "SHOULD/MAY ids: %d, covered %d" % (
              ncases, len(must), sum(1 for i in must if i in covered), sum(1 for i in must if i in exempt),
              len(missing), 100.0 * (len(must) - len(missing) - len([i for i in must if i in exempt])) /
              max(1, len(must) - len([i for i in must if i in exempt])),
              len(should), sum(1 for i in should if i in covered)))
    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


def main(argv):
    cmd = argv[1] if len(argv) > 1 else "check"
    if cmd == "coverage":
        if len(argv) < 3:
            print(__doc__.strip(), file=sys.stderr)
            return 2
        return coverage(argv[2], argv[3:] or DEFAULT_SPECS)
    paths = argv[2:] or DEFAULT_SPECS
    if cmd not in ("check", "list", "json"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    ids, problems = collect(paths)
    if cmd == "list":
        for rid, v in ids.items():
            print(f"{rid:10} {v['level']:6} {v['section'][:38]:38} {v['text'][:60]}")
    elif cmd == "json":
        json.dump(list(ids.values()), sys.stdout, indent=1)
        print()
    for p in problems:
        print(p, file=sys.stderr)
    if cmd == "check":
        by_level = {lv: sum(1 for v in ids.values() if v["level"] == lv) for lv in LEVELS}
        areas = sorted({i.split("-")[0] for i in ids})
        print(f"spec ids: {len(ids)} ({by_level['MUST']} MUST, {by_level['SHOULD']} SHOULD, "
              f"{by_level['MAY']} MAY) in {len(areas)} areas: {' '.join(areas)}; "
              f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
