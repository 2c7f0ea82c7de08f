"""regenerate.py: re-records every valid case from its scenario, between the reference implementations, then re-derives the invalid cases."""
import argparse
import glob
import os
import sys

from . import derive, record

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, ".."))


def read_scenario(path):
    """The metadata a scenario script carries in its leading comments."""
    meta = {"title": "", "checks": "", "requirement": "", "requires": "", "level": "required", "node": ""}
    with open(path) as f:
        for line in f:
            if not line.startswith("#"):
                continue
            body = line[1:].strip()
            key, sep, value = body.partition(":")
            if sep and key in meta and key != "title":
                meta[key] = value.strip()
            elif not meta["title"]:
                meta["title"] = body
    return meta


def main(argv=None):
    ap = argparse.ArgumentParser(prog="conformance/regenerate")
    ap.add_argument("--scenario-parent", required=True, help="the scripted parent (cord-scenario-parent)")
    ap.add_argument("--child-testee", required=True, help="the reference child testee")
    ap.add_argument("--scenario-child", help="the scripted child (for the parent-role cases)")
    ap.add_argument("--parent-testee", help="the reference parent testee (for the parent-role cases)")
    ap.add_argument("--node", help="node, for the json-binding cases")
    ap.add_argument("--only", help="only scenarios whose file name contains this")
    opts = ap.parse_args(argv)

    jobs = []
    for path in sorted(glob.glob(os.path.join(ROOT, "scenarios", "child", "*.txt"))):
        area, _, name = os.path.basename(path)[:-4].partition("--")
        jobs.append(("child", "cord", path, area, name,
                     "%s %s" % (opts.scenario_parent, path), opts.child_testee, []))
    if opts.scenario_child and opts.parent_testee:
        for path in sorted(glob.glob(os.path.join(ROOT, "scenarios", "parent", "*.txt"))):
            area, _, name = os.path.basename(path)[:-4].partition("--")
            jobs.append(("parent", "cord", path, area, name, opts.parent_testee,
                         "%s %s" % (opts.scenario_child, path), []))
    if opts.node:
        testees = os.path.join(ROOT, "testees")
        for role in ("child", "parent"):
            for path in sorted(glob.glob(os.path.join(ROOT, "scenarios", "node-" + role, "*.txt"))):
                area, _, name = os.path.basename(path)[:-4].partition("--")
                parts = read_scenario(path)["node"].split()
                binding = "node-advanced" if "advanced" in parts else "node-json"
                if role == "child":
                    # A real Node.js parent, and the reference child: the C child SDK on json without
                    # handles, which is all it speaks, and Node.js itself beyond that.
                    child = opts.child_testee if not parts else "%s %s" % (opts.node, os.path.join(testees, "node_child_testee.js"))
                    jobs.append(("child", binding, path, "node-" + area, name,
                                 "%s %s %s" % (opts.node, os.path.join(testees, "node_scenario_parent.js"), path),
                                 child, [], parts))
                else:
                    # The reference parent (the C parent SDK on json, Node.js itself beyond), and a real Node.js child.
                    parent = opts.parent_testee if not parts else "%s %s" % (opts.node, os.path.join(testees, "node_parent_testee.js"))
                    jobs.append(("parent", binding, path, "node-" + area, name, parent,
                                 "%s %s %s" % (opts.node, os.path.join(testees, "node_scenario_child.js"), path),
                                 ["CORD_CONFORMANCE_BINDING=" + binding[len("node-"):]], parts))
    for role, binding, path, area, name, parent, child, env, *parts in jobs:
        if opts.only and opts.only not in path:
            continue
        meta = read_scenario(path)
        case_id = "%s/valid/%s/%s" % (role, area, name)
        out = os.path.join(ROOT, "cases", case_id + ".json")
        args = ["--parent", parent, "--child", child, "--out", out, "--case", case_id, "--title", meta["title"],
                "--role", role, "--binding", binding, "--level", meta["level"],
                "--checks", ",".join(meta["checks"].replace(",", " ").split()),
                "--requirement", meta["requirement"], "--requires", meta["requires"]]
        for e in env:
            args += ["--parent-env", e]
        if parts and parts[0]:
            args += ["--node-requires", ",".join(p for p in parts[0] if p != "advanced")]
        record.main(args)
    derive.main([])
    return 0


if __name__ == "__main__":
    sys.exit(main())
