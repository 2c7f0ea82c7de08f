"""cord_build.py: the in-tree PEP 517 build backend that turns sdk/python into a wheel with the standard library alone.

pip builds a project in an isolated environment into which it installs the
backend named in pyproject.toml, from an index; Debian's offline machines
have none, and the isolated environment hides Debian's setuptools. A
backend in the tree (PEP 517 `backend-path`) with no requirements builds
offline. The wheel is pure Python: the package's files, and the
.dist-info files of PEP 427 and PEP 376 (METADATA, WHEEL, RECORD).
"""

import base64
import hashlib
import os
import zipfile

NAME = "cord"
VERSION = "1.0.0"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
METADATA = """Metadata-Version: 2.1
Name: %s
Version: %s
Summary: Cord channels for Python: child library and parent (spawn)
Requires-Python: >=3.9
Requires-Dist: protobuf>=3.19
""" % (NAME, VERSION)
WHEEL = """Wheel-Version: 1.0
Generator: cord_build
Root-Is-Purelib: true
Tag: py3-none-any
"""


def _files():
    """The package's files, as (path in the wheel, path on disk)."""
    base = os.path.join(ROOT, NAME)
    for folder, dirs, names in os.walk(base):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(names):
            if name.endswith(".py") or name == "py.typed":
                disk = os.path.join(folder, name)
                yield os.path.relpath(disk, ROOT).replace(os.sep, "/"), disk


def _record_line(path, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return "%s,sha256=%s,%d" % (path, digest, len(data))


def get_requires_for_build_wheel(config_settings=None):
    """PEP 517: nothing beyond the standard library."""
    return []


def get_requires_for_build_editable(config_settings=None):
    return []


def _write_wheel(wheel_directory, entries):
    dist_info = "%s-%s.dist-info" % (NAME, VERSION)
    filename = "%s-%s-py3-none-any.whl" % (NAME, VERSION)
    records = []
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w", zipfile.ZIP_DEFLATED) as zf:
        for arcname, data in entries + [(dist_info + "/METADATA", METADATA.encode()),
                                         (dist_info + "/WHEEL", WHEEL.encode())]:
            zf.writestr(arcname, data)
            records.append(_record_line(arcname, data))
        records.append(dist_info + "/RECORD,,")
        zf.writestr(dist_info + "/RECORD", "\n".join(records) + "\n")
    return filename


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    """PEP 517: build the wheel of the package into WHEEL_DIRECTORY."""
    entries = []
    for arcname, disk in _files():
        with open(disk, "rb") as f:
            entries.append((arcname, f.read()))
    return _write_wheel(wheel_directory, entries)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    """PEP 660: a wheel whose .pth file points at the source tree."""
    return _write_wheel(wheel_directory, [("_cord_editable.pth", (ROOT + "\n").encode())])
