"""allocator.keep_freed_memory: a freed large block is reused without new page faults."""
import subprocess
import sys
import unittest

from test_train import ROOT

# Allocates, touches and frees 256 MB, then does it again; prints the minor
# page faults of the second round (a fresh mapping faults in every page).
SCRIPT = """
import resource, sys
import numpy
from runtime import allocator
if sys.argv[1] == 'keep':
    assert allocator.keep_freed_memory()
a = numpy.ones(64 * 2 ** 20, numpy.float32); del a
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
a = numpy.ones(64 * 2 ** 20, numpy.float32)
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def second_round_faults(mode):
    result = subprocess.run([sys.executable, '-c', SCRIPT, mode], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    if result.returncode:
        raise AssertionError(result.stderr)
    return int(result.stdout)


@unittest.skipUnless(sys.platform.startswith('linux'), 'glibc malloc')
class TestKeepFreedMemory(unittest.TestCase):

    def test_freed_block_is_reused(self):
        # 256 MB is 65,536 pages of 4 KB, or 128 huge pages of 2 MB (numpy
        # asks for huge pages for large arrays)
        self.assertGreaterEqual(second_round_faults('default'), 128)
        self.assertLess(second_round_faults('keep'), 20)


if __name__ == '__main__':
    unittest.main()
