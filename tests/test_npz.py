"""runtime/npz.py: the one npz reader reads what numpy and Chainer write, and
refuses crafted files (pickles, bombs, lying headers) before reading any
array, in one line that names the file and the key."""
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tracemalloc
import unittest
import zipfile

import numpy

import models  # noqa: F401  (compat before chainer)
import chainer
from models import Critic
from runtime.npz import NpzError, NpzMismatch, load_npz, read_arrays

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Poison:
    """Unpickling it creates the file ``path``: the proof that a pickle ran."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return open, (self.path, 'w')


def poisoned_array(path):
    array = numpy.empty((), object)
    array[()] = Poison(path)
    return array


def npy_member(archive, key, header, data, method=zipfile.ZIP_STORED):
    """Write ``key``.npy with a .npy v1.0 ``header`` (dict) and raw ``data``."""
    buffer = io.BytesIO()
    numpy.lib.format.write_array_header_1_0(buffer, header)
    archive.writestr(zipfile.ZipInfo(key + '.npy'), buffer.getvalue() + data,
                     compress_type=method)


class NpzTestCase(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.witness = os.path.join(self.dir, 'pickle-ran')

    def tearDown(self):
        shutil.rmtree(self.dir)

    def path(self, name):
        return os.path.join(self.dir, name)

    def assertRefused(self, error, *fragments):
        text = str(error.exception)
        self.assertEqual(len(text.splitlines()), 1, text)
        for fragment in fragments:
            self.assertIn(fragment, text)
        self.assertFalse(os.path.exists(self.witness))


class TestReadArrays(NpzTestCase):

    def test_reads_what_numpy_writes(self):
        arrays = {'f': numpy.arange(12, dtype='>f4').reshape(3, 4),  # big-endian
                  'fortran': numpy.asfortranarray(numpy.arange(6.).reshape(2, 3)),
                  'b': numpy.array([True, False]), 'i': numpy.array(7), 'empty': numpy.zeros((0, 5)),
                  'c': numpy.array([1 + 2j], numpy.complex64)}
        for save in (numpy.savez, numpy.savez_compressed):
            save(self.path('a.npz'), **arrays)
            found = read_arrays(self.path('a.npz'))
            self.assertEqual(sorted(found), sorted(arrays))
            for key, array in arrays.items():
                numpy.testing.assert_array_equal(found[key], array)
                self.assertEqual(found[key].dtype, array.dtype.newbyteorder('='))
                self.assertTrue(found[key].dtype.isnative)
        text = numpy.array('{"n_classes": 3}')
        numpy.savez(self.path('t.npz'), meta=text, w=numpy.ones(3, numpy.float32))
        found = read_arrays(self.path('t.npz'), {'meta': ((), 'U'), 'w': ((None,), numpy.float32)})
        self.assertEqual(str(found['meta']), str(text))

    def test_expected_keys_shapes_and_dtypes(self):
        numpy.savez(self.path('a.npz'), w=numpy.ones((2, 3), numpy.float64), n=numpy.arange(3))
        cases = [({'x': (None, 'f')}, 'has no array "x" (keys: w, n)'),
                 ({'w': ((3, 2), numpy.float32)}, 'array "w" is (2, 3), expected (3, 2)'),
                 ({'w': ((2, None, 1), 'f')}, 'expected (2, N, 1)'),
                 ({'w': (None, numpy.int32)}, 'array "w" is float64, which does not cast to int32'),
                 ({'n': (None, 'U')}, 'array "n" is int64, expected text')]
        for expected, words in cases:
            with self.subTest(words=words), self.assertRaises(NpzMismatch) as error:
                read_arrays(self.path('a.npz'), expected)
            self.assertRefused(error, self.path('a.npz'), words)
        with self.assertRaises(NpzError) as error:
            read_arrays(self.path('a.npz'), max_bytes=40)
        self.assertRefused(error, 'array "w" declares float64 (2, 3) (48 bytes), more than the 40')

    def test_object_arrays_never_unpickled(self):
        numpy.savez(self.path('evil.npz'), w=numpy.ones(3), b=poisoned_array(self.witness))
        for expected in (None, {'b': ((), numpy.float32)}, {'b': ((), 'U')}):
            with self.subTest(expected=expected), self.assertRaises(NpzError) as error:
                read_arrays(self.path('evil.npz'), expected)
            self.assertRefused(error, self.path('evil.npz'), 'array "b" holds Python objects')
        fields = numpy.zeros(1, [('x', 'f4'), ('y', object)])
        numpy.savez(self.path('fields.npz'), s=fields)
        with self.assertRaises(NpzError) as error:
            read_arrays(self.path('fields.npz'))
        self.assertRefused(error, 'array "s" holds Python objects')

    def test_bzip2_bomb_refused_before_inflating(self):
        # 64 MiB of zeros in a 1 kB bzip2 member that claims to be C3D's mean clip
        zeros = bytes(2 ** 22)
        with zipfile.ZipFile(self.path('mean2.npz'), 'w', zipfile.ZIP_BZIP2) as archive:
            with archive.open('mean.npy', 'w') as f:
                numpy.lib.format.write_array_header_1_0(f, {
                    'descr': '<f4', 'fortran_order': False, 'shape': (2 ** 24,)})
                for _ in range(16):
                    f.write(zeros)
        self.assertLess(os.path.getsize(self.path('mean2.npz')), 2 ** 12)
        tracemalloc.start()
        try:
            for expected in (None, {'mean': ((3, 16, 128, 171), numpy.float32)}):
                with self.subTest(expected=expected), self.assertRaises(NpzError) as error:
                    read_arrays(self.path('mean2.npz'), expected)
                self.assertRefused(error, 'array "mean" is compressed with method 12')
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        self.assertLess(peak, 2 ** 22)

    def test_sizes_that_the_member_cannot_hold(self):
        header = {'descr': '<f4', 'fortran_order': False, 'shape': (2 ** 26,)}  # 256 MiB
        with zipfile.ZipFile(self.path('lies.npz'), 'w') as archive:
            npy_member(archive, 'stored', header, bytes(16))
            npy_member(archive, 'deflated', header, bytes(2 ** 16), zipfile.ZIP_DEFLATED)
            npy_member(archive, 'long', {'descr': '<f4', 'fortran_order': False,
                                         'shape': (1,), 'pad': 'x' * 20000}, bytes(4))
        tracemalloc.start()
        try:
            for key, words in (('stored', 'declares 268435456 bytes in a member of'),
                               ('deflated', 'declares 268435456 bytes in a member of'),
                               ('long', 'has a header of')):
                with self.subTest(key=key), self.assertRaises(NpzError) as error:
                    read_arrays(self.path('lies.npz'), {key: (None, 'f')}, max_bytes=2 ** 30)
                self.assertRefused(error, 'array "{}" {}'.format(key, words))
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        self.assertLess(peak, 2 ** 22)

    def test_files_that_are_no_npz(self):
        with open(self.path('page.npz'), 'w') as f:
            f.write('<html>not found</html>')
        os.mkfifo(self.path('fifo.npz'))
        for name, words in (('page.npz', 'not a readable npz file'),
                            ('fifo.npz', 'not a regular file'),
                            ('missing.npz', 'No such file')):
            with self.subTest(name=name), self.assertRaises(NpzError) as error:
                read_arrays(self.path(name))
            self.assertRefused(error, self.path(name), words)
        numpy.savez(self.path('a.npz'), w=numpy.arange(1000.))
        data = bytearray(open(self.path('a.npz'), 'rb').read())
        data[400] ^= 0xff  # inside the array's data: the CRC no longer fits
        with open(self.path('a.npz'), 'wb') as f:
            f.write(data)
        with self.assertRaises(NpzError) as error:
            read_arrays(self.path('a.npz'))
        self.assertRefused(error, 'array "w" cannot be read (BadZipFile: Bad CRC-32')
        data[400] ^= 0xff
        data[100] = ord('(')  # inside the .npy header's text
        with open(self.path('a.npz'), 'wb') as f:
            f.write(data)
        with self.assertRaises(NpzError) as error:
            read_arrays(self.path('a.npz'))
        self.assertRefused(error, 'array "w" has no readable .npy header')


class TestLoadNpz(NpzTestCase):

    def test_loads_what_chainer_saves(self):
        critic = Critic(in_channels=3, size=16, ch=4)
        for _, param in critic.namedparams():
            param.array[...] = numpy.random.rand(*param.shape)
        chainer.serializers.save_npz(self.path('critic.npz'), critic)
        loaded = Critic(in_channels=3, size=16, ch=4)
        load_npz(self.path('critic.npz'), loaded)
        for (name, a), (_, b) in zip(sorted(critic.namedparams()), sorted(loaded.namedparams())):
            numpy.testing.assert_array_equal(a.array, b.array, name)
        linear, optimizer = chainer.links.Linear(3, 2), chainer.optimizers.Adam()
        optimizer.setup(linear)
        optimizer.update(lambda: chainer.functions.sum(linear(numpy.ones((1, 3), 'f'))))
        optimizer.epoch = 2
        chainer.serializers.save_npz(self.path('opt.npz'), optimizer)
        other = chainer.optimizers.Adam()
        other.setup(chainer.links.Linear(3, 2))
        load_npz(self.path('opt.npz'), other)
        self.assertEqual((other.t, other.epoch), (1, 2))
        numpy.testing.assert_array_equal(other.target.W.update_rule.state['m'],
                                         linear.W.update_rule.state['m'])

    def test_refuses_what_does_not_fit_and_poison(self):
        link = chainer.links.Linear(3, 2)
        numpy.savez(self.path('w.npz'), W=numpy.ones((2, 4), numpy.float32),
                    b=numpy.ones(2, numpy.float32))
        with self.assertRaises(NpzMismatch) as error:
            load_npz(self.path('w.npz'), link)
        self.assertRefused(error, 'array "W" is (2, 4), expected (2, 3)')
        numpy.savez(self.path('w.npz'), W=numpy.ones((2, 3), numpy.float32))
        with self.assertRaises(NpzMismatch) as error:
            load_npz(self.path('w.npz'), link)
        self.assertRefused(error, 'no array "b"')
        load_npz(self.path('w.npz'), link, strict=False)
        numpy.testing.assert_array_equal(link.W.array, 1)
        numpy.savez(self.path('w.npz'), W=numpy.ones((2, 3), numpy.float32),
                    b=poisoned_array(self.witness))
        with self.assertRaises(NpzError) as error:
            load_npz(self.path('w.npz'), link)
        self.assertRefused(error, 'array "b" holds Python objects')


class TestNoOtherReader(unittest.TestCase):
    """Every npz of the project goes through runtime/npz.py: no other code
    path may load an npz or npy with pickles allowed (Chainer's load_npz does; writing a pickle,
    as tests do to craft hostile files, is allowed)."""

    FORBIDDEN = re.compile(r'serializers\.load_npz\s*\(|NpzDeserializer\s*\(|\bload\([^)]*allow_'
                           r'pickle\s*=\s*True|\bnp\.load\s*\(')

    def test_no_pickle_allowing_reads(self):
        files = subprocess.run(['git', 'ls-files', '--cached', '--others', '--exclude-standard',
                                '*.py'], cwd=ROOT, capture_output=True, text=True,
                               check=True).stdout.split()
        self.assertIn('runtime/npz.py', files)
        for name in files:
            with open(os.path.join(ROOT, name), encoding='utf-8') as f:
                text = f.read()
            with self.subTest(file=name):
                self.assertIsNone(self.FORBIDDEN.search(text))
                if not name.startswith('tests/'):  # numpy.load only for .npy, pickles off
                    for call in re.findall(r'numpy\.load\([^)]*\)', text):
                        self.assertIn('allow_pickle=False', call)


if __name__ == '__main__':
    unittest.main()
