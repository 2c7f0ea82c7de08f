"""test_error_table.py: cord/errors.py holds exactly the error table of spec section 11: codes, names, fatal rows."""

import os
import re
import unittest

from cord import errors as E
from helpers import SDK

SPEC = os.path.join(SDK, "..", "..", "spec", "cord-v1.md")
ROW = re.compile(r"^\| (\d{4}) \| ([A-Z_]+) \| CORD_E[A-Z]+ \| (yes|no) \|", re.M)


class ErrorTable(unittest.TestCase):
    def test_same_as_the_spec(self):
        with open(SPEC, encoding="utf-8") as f:
            rows = ROW.findall(f.read())
        self.assertGreater(len(rows), 15)
        self.assertEqual({int(c): n for c, n, _ in rows}, E._NAMES)
        self.assertEqual({int(c) for c, _, fatal in rows if fatal == "yes"}, set(E.FATAL))
        for code, name, _ in rows:
            self.assertEqual(getattr(E, name), int(code))


if __name__ == "__main__":
    unittest.main()
