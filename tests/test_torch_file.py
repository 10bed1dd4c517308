"""runtime/torch_file.py: reads torch.save's state dicts (written here by hand,
tests/pt_writer.py) exactly, and refuses pickles that would run code and
damaged or foreign files with one line."""
import contextlib
import hashlib
import io
import os
import pickle
import shlex
import shutil
import subprocess
import tempfile
import unittest
import zipfile

import numpy

from runtime.errors import UsageError, run_command
from runtime.torch_file import read_tensors
from pt_writer import View, state_dict_pickle, write_pt


class Command:
    """Pickles as a call of os.system(command) (GLOBAL posix/nt system)."""

    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return os.system, (self.command,)


class Call:
    """Pickles as a call of ``function(*args)``."""

    def __init__(self, function, *args):
        self.function, self.args = function, args

    def __reduce__(self):
        return self.function, self.args


class TorchFileCase(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.path = os.path.join(self.dir, 'weights.pt')

    def tearDown(self):
        shutil.rmtree(self.dir)

    def refused(self, words):
        with self.assertRaises(UsageError) as caught:
            read_tensors(self.path)
        message = str(caught.exception)
        self.assertIn(words, message)
        self.assertNotIn('\n', message)
        return message


class TestRead(TorchFileCase):

    def test_tensors_come_back_exactly(self):
        rng = numpy.random.default_rng(0)
        base = numpy.arange(20, dtype=numpy.float64)
        tensors = {'conv.weight': rng.standard_normal((4, 3, 3, 3, 3), dtype=numpy.float32),
                   'bn.num_batches_tracked': numpy.array(7, numpy.int64),
                   'view': View(base, 3, (3, 2), (4, 1)),       # offset and strides
                   'transposed': View(base, 0, (5, 4), (1, 5)),
                   'half': rng.standard_normal(5).astype(numpy.float16),
                   'mask': numpy.array([True, False]),
                   'empty': numpy.zeros((0, 3), numpy.float32),
                   'large': numpy.full(2, 2 ** 40, numpy.int64)}
        expected = dict(tensors, view=base[3:15].reshape(3, 4)[:, :2],
                        transposed=base.reshape(4, 5).T)
        for order, prefix in (('<', 'archive'), ('>', 'i3d_pretrained_400')):
            with self.subTest(order=order):
                write_pt(self.path, tensors, prefix=prefix, order=order)
                found, sha256 = read_tensors(self.path)
                self.assertEqual(list(found), list(tensors))      # the file's order
                for name, array in found.items():
                    self.assertEqual(array.shape, expected[name].shape, name)
                    self.assertEqual(array.dtype, expected[name].dtype, name)
                    self.assertTrue(array.dtype.isnative and array.flags.c_contiguous, name)
                    numpy.testing.assert_array_equal(array, expected[name])
                with open(self.path, 'rb') as f:
                    self.assertEqual(sha256, hashlib.sha256(f.read()).hexdigest())

    def test_file_without_byteorder_record_is_little_endian(self):
        # PyTorch 1.6 to 2.0 wrote no byteorder member
        weight = numpy.arange(6, dtype=numpy.float32).reshape(2, 3)
        write_pt(self.path, {'w': weight}, leave_out=('archive/byteorder',))
        numpy.testing.assert_array_equal(read_tensors(self.path)[0]['w'], weight)

    def test_parameters_are_their_tensors(self):
        # torch.save({'w': nn.Parameter(...)}) rebuilds through _rebuild_parameter
        weight = numpy.arange(4, dtype=numpy.float32)
        write_pt(self.path, {'w': weight}, parameters=('w',))
        numpy.testing.assert_array_equal(read_tensors(self.path)[0]['w'], weight)


class TestRefusals(TorchFileCase):

    def test_pickle_that_would_run_a_command_is_refused(self):
        marker = os.path.join(self.dir, 'ran')
        command = 'touch ' + shlex.quote(marker)
        crafted = pickle.dumps({'w': Command(command)}, protocol=2)
        pickle.loads(crafted)                       # the standard unpickler runs it ...
        self.assertTrue(os.path.exists(marker))
        os.remove(marker)
        write_pt(self.path, {}, pickle=crafted, storages={})
        message = self.refused('was refused: its pickle asks for ')   # ... ours does not
        self.assertRegex(message, r'asks for (posix|nt|os)\.system, which a state dict of '
                                  r'tensors never needs \(nothing from it was run\)')
        self.assertFalse(os.path.exists(marker))

    def test_every_other_global_is_refused(self):
        marker = os.path.join(self.dir, 'ran')
        for protocol in (0, 2, 4):              # GLOBAL/INST, GLOBAL, STACK_GLOBAL opcodes
            for payload, name in ((Call(subprocess.call, ['touch', marker]), 'call'),
                                  (Call(eval, 'open(%r, "w")' % marker), 'eval'),
                                  (Call(open, marker, 'w'), 'open'),
                                  (Call(numpy.zeros, 3), 'zeros')):
                with self.subTest(protocol=protocol, name=name):
                    write_pt(self.path, {}, storages={},
                             pickle=pickle.dumps({'w': payload}, protocol=protocol))
                    self.assertRegex(self.refused('was refused'), r'asks for \S*' + name)
                    self.assertFalse(os.path.exists(marker))

    def test_globals_of_torch_that_are_not_storages_are_refused(self):
        tensor_pickle, storages = state_dict_pickle({'w': numpy.zeros(2, numpy.float32)})
        for module, name in (('torch', 'load'), ('torch._utils', '_rebuild_tensor'),
                             ('torch', 'ComplexFloatStorage')):
            with self.subTest(name=name):
                crafted = tensor_pickle.replace(b'ctorch\nFloatStorage\n', 'c{}\n{}\n'.format(
                    module, name).encode())
                write_pt(self.path, {}, pickle=crafted, storages=storages)
                self.refused('asks for {}.{}'.format(module, name))

    def test_not_a_zip(self):
        with open(self.path, 'w') as f:
            f.write('<html>Not Found</html>')
        self.refused('is not a zip archive (a file written by torch.save is one)')

    def test_truncated(self):
        write_pt(self.path, {'w': numpy.zeros((64, 64), numpy.float32)})
        with open(self.path, 'rb') as f:
            data = f.read()
        with open(self.path, 'wb') as f:
            f.write(data[:len(data) // 2])
        self.refused('it may be truncated')

    def test_damaged_storage(self):
        write_pt(self.path, {'w': numpy.zeros((64, 64), numpy.float32)})
        with open(self.path, 'rb') as f:
            data = bytearray(f.read())
        data[data.index(b'archive/data/0') + 100] ^= 0xff   # a byte of the storage
        with open(self.path, 'wb') as f:
            f.write(data)
        self.refused('is damaged (archive/data/0: Bad CRC-32')

    def test_missing_members(self):
        write_pt(self.path, {'w': numpy.zeros(3, numpy.float32)},
                 leave_out=('archive/data.pkl',))
        self.refused('without exactly one <name>/data.pkl')
        write_pt(self.path, {'w': numpy.zeros(3, numpy.float32)},
                 leave_out=('archive/data/0',))
        self.refused('lacks the storage archive/data/0 of a tensor')

    def test_storage_of_the_wrong_size(self):
        tensor_pickle, storages = state_dict_pickle({'w': numpy.zeros(8, numpy.float32)})
        write_pt(self.path, {}, pickle=tensor_pickle, storages={'0': storages['0'][:-4]})
        self.refused('has a storage archive/data/0 of 28 bytes where its tensor needs 32')

    def test_tensor_beyond_its_storage(self):
        write_pt(self.path, {'w': View(numpy.arange(20.), 15, (3, 4), (4, 1))})
        self.refused('beyond its storage of 20 elements')

    def test_tensor_much_larger_than_the_file(self):
        # a stride-0 view of one element, 10^10 elements long
        write_pt(self.path, {'w': View(numpy.ones(1, numpy.float32), 0, (10 ** 5, 10 ** 5),
                                       (0, 0))})
        self.refused('holds tensors much larger than the file itself')

    def test_content_that_is_not_tensors(self):
        for content, words in (({'w': [1.0, 2.0]}, 'not named tensors: w (list)'),
                               ([numpy.zeros(2)], 'was refused'),       # numpy's own pickle
                               ([1, 2], 'holds a list, not a state dict'),
                               ({3: 'x'}, 'not named tensors: 3 (str)')):
            with self.subTest(words=words):
                write_pt(self.path, {}, pickle=pickle.dumps(content, protocol=2), storages={})
                self.refused(words)

    def test_malformed_pickle(self):
        write_pt(self.path, {}, pickle=b'\x80\x02(X\xff\xff\xff\xff', storages={})
        self.refused('holds a pickle that does not read as a state dict')

    def test_legacy_format(self):
        magic = pickle.dumps(0x1950a86a20f9469cfc6c, protocol=2)[:-1]   # torch < 1.6's start
        with open(self.path, 'wb') as f:
            f.write(magic + pickle.dumps(1001, protocol=2))
        self.refused('legacy format of PyTorch < 1.6, which this reader does not read: '
                     're-save it with PyTorch >= 1.6')

    def test_torchscript_archive(self):
        with zipfile.ZipFile(self.path, 'w') as archive:
            for name in ('m/data.pkl', 'm/constants.pkl', 'm/code/__torch__/m.py'):
                archive.writestr(name, b'')
        self.refused('is a TorchScript archive (torch.jit.save), not a state dict')

    def test_missing_file(self):
        self.path = os.path.join(self.dir, 'nowhere.pt')
        self.refused('cannot read')

    def test_refusal_is_one_line_of_the_command_line(self):
        """What a user sees: one ``error:`` line and status 2."""
        write_pt(self.path, {}, pickle=pickle.dumps({'w': Command('true')}, protocol=2),
                 storages={})
        err = io.StringIO()
        with self.assertRaises(SystemExit) as caught, contextlib.redirect_stderr(err):
            run_command(lambda: read_tensors(self.path) and 0)
        self.assertEqual(caught.exception.code, 2)
        self.assertRegex(err.getvalue(), r'^error: \S*weights\.pt was refused: [^\n]*system'
                                         r'[^\n]*\n$')


if __name__ == '__main__':
    unittest.main()
