"""test_generated_schema.py: the committed cord_pb2.py is what Debian's protoc generates from proto/cord.proto today."""

import os
import subprocess
import tempfile
import unittest

from helpers import SDK

PROTOC = os.environ.get("CORD_PROTOC")
PROTO_DIR = os.environ.get("CORD_PROTO_DIR")
BUILD_DIR = os.environ.get("CORD_PY_BUILD_DIR")


@unittest.skipUnless(PROTOC and PROTO_DIR and BUILD_DIR, "set by ctest: CORD_PROTOC, CORD_PROTO_DIR, CORD_PY_BUILD_DIR")
class GeneratedSchema(unittest.TestCase):
    def test_committed_module_is_fresh(self):
        # Generated into the build tree, never into a shared folder.
        with tempfile.TemporaryDirectory(dir=BUILD_DIR) as out:
            subprocess.run([PROTOC, "-I" + PROTO_DIR, "--python_out=" + out, "cord.proto"],
                           check=True, cwd=PROTO_DIR)
            with open(os.path.join(out, "cord_pb2.py"), "rb") as f:
                fresh = f.read()
        with open(os.path.join(SDK, "cord", "cord_pb2.py"), "rb") as f:
            committed = f.read()
        self.assertEqual(committed, fresh, "regenerate: protoc -Iproto --python_out=sdk/python/cord proto/cord.proto")


if __name__ == "__main__":
    unittest.main()
