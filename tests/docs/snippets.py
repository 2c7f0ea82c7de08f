#!/usr/bin/env python3
"""snippets.py: every code block of a README is a file of the project, shown whole: the block must equal the file.

A block of code (```c, ```sh, ```python, ```js, ```ts, ```go) is preceded
by the line `<!-- file: PATH -->`, PATH relative to the repository's root;
the file is what the build compiles or a test runs. Blocks of other kinds
(```text for output, ```proto ...) are not code and are not checked.

usage: snippets.py ROOT README...
"""
import re
import sys

CODE = {"c", "sh", "python", "js", "ts", "go"}
FENCE = re.compile(r"^```(\w*)\s*$")
MARK = re.compile(r"^<!-- file: (\S+) -->\s*$")


def check(root, readme):
    failures = []
    lines = open(readme, encoding="utf-8").read().split("\n")
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        lang, start = m.group(1), i
        i += 1
        body = []
        while i < len(lines) and lines[i] != "```":
            body.append(lines[i])
            i += 1
        i += 1
        if lang not in CODE:
            continue
        mark = MARK.match(lines[start - 1]) if start else None
        where = f"{readme}:{start + 1}"
        if not mark:
            failures.append(f"{where}: a ```{lang} block without <!-- file: PATH --> before it")
            continue
        path = f"{root}/{mark.group(1)}"
        try:
            text = open(path, encoding="utf-8").read()
        except OSError as e:
            failures.append(f"{where}: {mark.group(1)}: {e.strerror}")
            continue
        if text != "\n".join(body) + "\n":
            failures.append(f"{where}: the block differs from {mark.group(1)}")
    return failures


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    failures = [f for readme in argv[2:] for f in check(argv[1], readme)]
    for f in failures:
        print(f)
    print(f"{len(argv) - 2} READMEs, {len(failures)} blocks that are not their files")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
