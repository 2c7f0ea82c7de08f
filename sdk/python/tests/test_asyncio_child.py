"""test_asyncio_child.py: the asyncio child (the README's example): coroutine handlers, and a Cancel that cancels the handler's task."""

import os
import unittest

import cord
from cord import errors as E
from helpers import LIMIT, SDK, PYTHON, events_until, start

ASYNC_CHILD = os.path.join(SDK, "examples", "readme_async_child.py")


class AsyncChild(unittest.TestCase):
    def test_handlers_and_cancel(self):
        proc = start(self, [PYTHON, ASYNC_CHILD], env=dict(os.environ, PYTHONPATH=SDK))
        self.assertEqual(proc.request({"seconds": 0}).result(LIMIT).data, {"slept": 0})
        slow = proc.request({"seconds": 3600})
        quick = proc.request({"seconds": 0.01})
        self.assertEqual(quick.result(LIMIT).data, {"slept": 0.01})   # handled meanwhile
        self.assertFalse(slow.cancel())                # a Cancel is sent; the reply still comes
        with self.assertRaises(cord.CordError) as caught:
            slow.result(LIMIT)
        self.assertEqual(caught.exception.code, E.CANCELLED)
        proc.send({"one": "way"})                       # no handler takes one-way messages
        errors = [e for e in events_until(proc, cord.Error)]
        self.assertEqual((errors[-1].error.code, errors[-1].remote), (E.UNSUPPORTED, True))
        self.assertEqual(str(proc.close()), "exit 0")


if __name__ == "__main__":
    unittest.main()
