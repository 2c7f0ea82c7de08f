"""test_readme.py: every code block of the README is a file of the SDK, and the README's parent runs against its child."""

import os
import re
import subprocess
import sys
import unittest

from helpers import LIMIT, SDK

README = os.path.join(SDK, "README.md")
BLOCK = re.compile(r"^<!-- file: (\S+) -->\n```[a-z]*\n(.*?)^```$", re.S | re.M)


def blocks():
    with open(README, encoding="utf-8") as f:
        return BLOCK.findall(f.read())


class Readme(unittest.TestCase):
    def test_blocks_are_the_files(self):
        found = blocks()
        self.assertGreaterEqual(len(found), 3)
        for path, text in found:
            with open(os.path.join(SDK, path), encoding="utf-8") as f:
                self.assertEqual(text, f.read(), path)

    def test_every_block_has_its_file(self):
        with open(README, encoding="utf-8") as f:
            fences = re.findall(r"^(.*)\n```python$", f.read(), re.M)
        for line in fences:
            self.assertTrue(line.startswith("<!-- file: "), "a python block without its file: %r" % line)

    def test_parent_example_runs_the_child_example(self):
        env = dict(os.environ, PYTHONPATH=SDK)
        out = subprocess.run([sys.executable, os.path.join(SDK, "examples", "readme_parent.py"),
                              os.path.join(SDK, "examples", "readme_child.py")],
                             env=env, capture_output=True, text=True, timeout=LIMIT, check=True).stdout
        self.assertEqual(out, "{'sum': 42, 'seen': 1}\nexit 0\n")

    def test_loop_child_echoes_with_descriptors(self):
        import cord
        proc = cord.spawn([sys.executable, os.path.join(SDK, "examples", "readme_loop_child.py")],
                          env=dict(os.environ, PYTHONPATH=SDK))
        r, w = os.pipe()
        try:
            reply = proc.request({"n": 1}, fds=[w]).result(LIMIT)
            self.assertEqual(reply.data, {"n": 1})
            self.assertEqual(len(reply.fds), 1)
            os.write(reply.fds[0], b"ok")
            for fd in reply.fds + [w]:
                os.close(fd)
            self.assertEqual(os.read(r, 10), b"ok")
        finally:
            os.close(r)
        self.assertEqual(str(proc.close()), "exit 0")


if __name__ == "__main__":
    unittest.main()
