#!/usr/bin/env python3
"""footprint.py: prints what libcord-child costs, figure by figure, beside its targets.

Run by the `child-footprint` target, the `child/footprint` test and the
benchmark suite (bench/run), which passes --json FILE for the figures. Sizes
come from `size` on -Os objects and from the link maps of the smallest
echo child; the run-time figures from cord-child-bench. It exits 1 when
a hard target is missed: static RAM over 256 bytes, any allocation, or a
failed benchmark run.
"""
import argparse
import json
import os
import re
import subprocess
import sys

TEXT_TARGET = 4096  # bytes of SDK code at -Os on x86-64
RAM_TARGET = 256  # bytes of static RAM of the SDK itself


def size_of(size_tool, path):
    """(text, data, bss) per member of an object or archive, by name."""
    out = subprocess.run([size_tool, path], check=True, capture_output=True, text=True).stdout
    rows = {}
    for line in out.splitlines()[1:]:
        f = line.split()
        name = os.path.basename(f[5]) if len(f) > 5 else os.path.basename(path)
        name = re.sub(r" \(ex .*\)$", "", name)
        rows[name] = tuple(int(x) for x in f[:3])
    return rows


def objects(arg):
    return [p for p in arg.split(";") if p]


def short(name):
    return re.sub(r"\.c\.o$", ".o", name)


def linked(map_path, wanted):
    """Bytes of .text and .rodata each wanted object contributes to a --gc-sections link."""
    sizes = {}
    if not os.path.exists(map_path):
        return sizes
    in_map = False
    pending = None
    for line in open(map_path, encoding="utf-8", errors="replace"):
        if line.startswith("Linker script and memory map"):
            in_map = True
            continue
        if not in_map:
            continue
        m = re.match(r"^ (\.(?:text|rodata)\S*)\s*$", line)
        if m:
            pending = m.group(1)
            continue
        m = re.match(r"^ (\.(?:text|rodata)\S*)?\s+0x[0-9a-f]+\s+0x([0-9a-f]+)\s+(\S+\.o)\s*$", line)
        if m and (m.group(1) or pending):
            obj = short(os.path.basename(m.group(3)))
            if obj in wanted:
                sizes[obj] = sizes.get(obj, 0) + int(m.group(2), 16)
        pending = None
    return sizes


def main():
    ap = argparse.ArgumentParser()
    for opt in ("size", "default", "minimal", "bare", "generated", "common", "nanopb", "map-default",
                "map-minimal", "bench"):
        ap.add_argument("--" + opt, required=True)
    ap.add_argument("--json", help="also write the figures to this file")
    a = ap.parse_args()
    figures = {}

    configs = [("default", a.default), ("minimal", a.minimal), ("bare", a.bare)]
    table = {}
    names = []
    for cfg, objs in configs:
        for o in objects(objs):
            for n, v in size_of(a.size, o).items():
                n = short(n)
                table[(cfg, n)] = v
                if n not in names:
                    names.append(n)
    totals = {cfg: [sum(table.get((cfg, n), (0, 0, 0))[i] for n in names) for i in range(3)]
              for cfg, _ in configs}
    ok = True

    print("libcord-child footprint: x86-64, gcc, -Os -ffunction-sections -fdata-sections "
          "-fno-asynchronous-unwind-tables")
    print("configurations: default = every knob at its default; minimal = CORD_CHILD_NO_FDS + "
          "CORD_CHILD_NO_NODE; bare = minimal + CORD_CHILD_NO_ERRSTR")
    print()
    print("| SDK object | default text/data/bss | minimal text/data/bss | bare text/data/bss |")
    print("|---|---|---|---|")
    for n in names:
        cells = ["%d/%d/%d" % table.get((cfg, n), (0, 0, 0)) for cfg, _ in configs]
        print("| %s | %s |" % (n, " | ".join(cells)))
    print("| **total** | %s |" % " | ".join("**%d/%d/%d**" % tuple(totals[cfg]) for cfg, _ in configs))
    print()

    # The SDK calls one shared function, cord_preview(), unless texts are compiled out.
    common = objects(a.common)
    preview = 0
    if common:
        nm = subprocess.run(["nm", "--size-sort", "-S", common[0]], capture_output=True, text=True).stdout
        for line in nm.splitlines():
            f = line.split()
            if len(f) == 4 and f[3] == "cord_preview":
                preview = int(f[1], 16)
    sdk_names = set(names)
    link = {cfg: linked(getattr(a, "map_" + cfg), sdk_names) for cfg in ("default", "minimal")}
    gen = size_of(a.size, objects(a.generated)[0])
    gen_text, gen_data, gen_bss = list(gen.values())[0]
    npb = size_of(a.size, a.nanopb)
    npb_total = sum(v[0] for v in npb.values())

    print("| figure | measured | target |")
    print("|---|---|---|")
    for cfg, _ in configs:
        t = totals[cfg][0]
        mark = "within" if t <= TEXT_TARGET else "over"
        print("| SDK text, whole library, %s | %d bytes | <= %d (%s) |" % (cfg, t, TEXT_TARGET, mark))
    for cfg in ("default", "minimal"):
        t = sum(link[cfg].values())
        figures["text_total_" + cfg] = totals[cfg][0]
        figures["text_linked_" + cfg] = t
        if t:
            mark = "within" if t <= TEXT_TARGET else "over"
            print("| SDK text linked into the echo child (--gc-sections), %s | %d bytes | <= %d (%s) |"
                  % (cfg, t, TEXT_TARGET, mark))
    print("| shared cord_preview() of cord_errors.o, used unless CORD_CHILD_NO_ERRSTR | %d bytes | - |" % preview)
    ram = max(totals[cfg][1] + totals[cfg][2] for cfg, _ in configs)
    figures["static_ram"] = ram
    ok &= ram <= RAM_TARGET
    print("| SDK static RAM (data + bss), any configuration | %d bytes | <= %d, ideally 0 (%s) |"
          % (ram, RAM_TARGET, "within" if ram <= RAM_TARGET else "OVER"))
    print("| generated descriptors cord.pb.o (-Os), text/data/bss | %d/%d/%d | not SDK code |"
          % (gen_text, gen_data, gen_bss))
    print("| nanopb runtime, Debian's libprotobuf-nanopb.a text (%s) | %d bytes | not SDK code |"
          % (", ".join("%s %d" % (k, v[0]) for k, v in sorted(npb.items())), npb_total))
    print("| nanopb 0.4.7 runtime built -Os / -Os -DPB_NO_ERRMSG (measured once, documented) "
          "| 11321 / 9583 bytes | not SDK code |")

    run = subprocess.run([a.bench], capture_output=True, text=True)
    sys.stderr.write(run.stderr)
    measured = {}
    for line in run.stdout.splitlines():
        f = line.split(" ", 3)
        measured[f[0]] = (int(f[1]), f[2], f[3] if len(f) > 3 else "")
        figures[f[0]] = int(f[1])
    for key in ("stack_open", "stack_cycle", "stack_node"):
        if key in measured:
            v, unit, note = measured[key]
            print("| stack high-water: %s | %d %s | measured at run time |" % (note, v, unit))
    if "allocations" in measured:
        v = measured["allocations"][0]
        ok &= v == 0
        print("| allocations over the benchmark's sessions | %d | 0 (%s) |" % (v, "within" if v == 0 else "OVER"))
    for key in ("sizeof_chan", "sizeof_msg"):
        if key in measured:
            v, unit, note = measured[key]
            print("| %s | %d %s | caller's memory |" % (note, v, unit))
    if run.returncode != 0:
        ok = False
        print("benchmark run failed with status %d" % run.returncode)
    print()
    print("footprint: %s" % ("hard targets met" if ok else "A HARD TARGET WAS MISSED"))
    if a.json:
        with open(a.json, "w", encoding="utf-8") as f:
            json.dump(figures, f, indent=1)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
