"""Read a PyTorch state dict (a ``.pt`` file of named tensors) without
PyTorch, and without running anything the file holds.

``torch.save`` (PyTorch >= 1.6) writes a zip archive: ``<prefix>/data.pkl``,
a pickle of the object in which each tensor is a call of
``torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)`` and
each storage a persistent id ``('storage', torch.<Type>Storage, key,
location, numel)`` naming the raw little-endian bytes in
``<prefix>/data/<key>``. A pickle may call any importable function, so this
reader's unpickler admits only the few globals a state dict needs, each
mapped to a local function or marker here, and refuses every other one with
one line. Storages are checked against their members' sizes before use, and
every tensor comes back as a contiguous numpy array (docs/fvd.md).
"""
import collections
import hashlib
import io
import math
import pickle
import re
import zipfile

import numpy

from runtime.errors import UsageError

# torch.<name>Storage -> the numpy dtype of its elements
STORAGE_DTYPES = {'FloatStorage': 'f4', 'DoubleStorage': 'f8', 'HalfStorage': 'f2',
                  'LongStorage': 'i8', 'IntStorage': 'i4', 'ShortStorage': 'i2',
                  'CharStorage': 'i1', 'ByteStorage': 'u1', 'BoolStorage': 'b1'}
# the first bytes of the legacy (PyTorch < 1.6) format: the pickled magic number
LEGACY_MAGIC = b'\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19'
MAX_PICKLE_BYTES = 16 * 2 ** 20   # a state dict's pickle is kilobytes; its tensors are elsewhere
MAX_DIMENSIONS = 32


# What the pickle's ``torch.<name>Storage`` global becomes: a marker with the
# element dtype, never called (tuples: a pickle cannot set attributes on them).
StorageType = collections.namedtuple('StorageType', 'name dtype')
# One storage of the archive: a flat numpy array of its elements.
Storage = collections.namedtuple('Storage', 'array')


class TensorFile:
    """The tensors of one file and their checks; ``read`` runs it."""

    def __init__(self, path, data):
        self.path = path
        try:
            self.archive = zipfile.ZipFile(io.BytesIO(data))
        except zipfile.BadZipFile:
            if data.startswith(LEGACY_MAGIC):
                self.fail('is in the legacy format of PyTorch < 1.6, which this reader does not '
                          'read: re-save it with PyTorch >= 1.6 '
                          '(torch.save(torch.load(f), f))')
            self.fail('is not a zip archive (a file written by torch.save is one): it may be '
                      'truncated or another kind of file; download it again')
        self.prefix = self.find_prefix()
        order = self.read_member(self.prefix + 'byteorder', 16) if (
            self.prefix + 'byteorder' in self.archive.NameToInfo) else b'little'
        if order not in (b'little', b'big'):
            self.fail('has an unknown byteorder record {!r}'.format(order[:16]))
        self.order = '<' if order == b'little' else '>'
        self.storages = {}
        self.budget = len(data) * 2 + 2 ** 20   # bytes all tensors together may take

    def fail(self, reason):
        raise UsageError('{} {}'.format(self.path, reason))

    def find_prefix(self):
        names = self.archive.namelist()
        if any(re.fullmatch(r'[^/]+/(constants\.pkl|code/.*)', n) for n in names):
            self.fail('is a TorchScript archive (torch.jit.save), not a state dict of tensors: '
                      'use the state dict file (for I3D, i3d_pretrained_400.pt; see '
                      'docs/fvd.md)')
        pickles = [n for n in names if re.fullmatch(r'[^/]+/data\.pkl', n)]
        if len(pickles) == 1:
            return pickles[0][:-len('data.pkl')]
        self.fail('is a zip archive without exactly one <name>/data.pkl (found {}), so not '
                  'a file written by torch.save; download it again'.format(
                      len(pickles) or 'none'))

    def read_member(self, name, limit):
        """The bytes of archive member ``name``, refusing more than ``limit``."""
        try:
            info = self.archive.getinfo(name)
        except KeyError:
            self.fail('lacks the member {}: it is incomplete; download it again'.format(name))
        if info.file_size > limit:
            self.fail('has a member {} of {} bytes, more than the {} it may have'.format(
                name, info.file_size, limit))
        try:
            with self.archive.open(info) as f:
                data = f.read(limit + 1)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError,
                NotImplementedError) as e:
            self.fail('is damaged ({}: {}); download it again'.format(name, e))
        if len(data) != info.file_size:
            self.fail('is damaged ({} holds {} bytes, its header says {}); download it '
                      'again'.format(name, len(data), info.file_size))
        return data

    def read(self):
        unpickler = _Unpickler(io.BytesIO(self.read_member(self.prefix + 'data.pkl',
                                                           MAX_PICKLE_BYTES)), self)
        try:
            result = unpickler.load()
        except UsageError:
            raise
        except Exception as e:   # a malformed pickle: any of pickle's errors
            self.fail('holds a pickle that does not read as a state dict ({}: {}); download '
                      'it again'.format(type(e).__name__, str(e)[:200]))
        if not isinstance(result, dict):
            self.fail('holds a {}, not a state dict (a mapping of names to tensors)'.format(
                type(result).__name__))
        others = ['{} ({})'.format(k, type(v).__name__) for k, v in result.items()
                  if not (isinstance(k, str) and isinstance(v, numpy.ndarray))]
        if others:
            self.fail('holds entries that are not named tensors: {}'.format(
                ', '.join(others[:5]) + (' ...' if len(others) > 5 else '')))
        return collections.OrderedDict(result)

    def storage(self, pid):
        """The persistent id ('storage', type, key, location, numel) as a Storage."""
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == 'storage'
                and isinstance(pid[1], StorageType) and isinstance(pid[2], str)
                and re.fullmatch(r'\w{1,64}', pid[2]) and isinstance(pid[4], int)
                and pid[4] >= 0):
            self.fail('holds a reference {!r:.100} that is not a tensor storage'.format(pid))
        _, kind, key, _, numel = pid
        if key not in self.storages:
            dtype = kind.dtype.newbyteorder(self.order)
            size = numel * dtype.itemsize
            name = self.prefix + 'data/' + key
            info = self.archive.NameToInfo.get(name)
            if info is None:
                self.fail('lacks the storage {} of a tensor: it is incomplete; download it '
                          'again'.format(name))
            if info.file_size != size:
                self.fail('has a storage {} of {} bytes where its tensor needs {} ({} x {}); '
                          'it is damaged; download it again'.format(
                              name, info.file_size, size, numel, kind.name))
            array = numpy.frombuffer(self.read_member(name, size), dtype)
            self.storages[key] = (kind, Storage(array))
        stored_kind, storage = self.storages[key]
        if stored_kind.dtype != kind.dtype or storage.array.size != numel:
            self.fail('uses its storage {} with two types or sizes'.format(key))
        return storage

    def tensor(self, storage, offset, size, stride, requires_grad=False, hooks=None,
               metadata=None):
        """``torch._utils._rebuild_tensor_v2`` for numpy: a contiguous copy."""
        sizes_ok = all(isinstance(v, tuple) and len(v) <= MAX_DIMENSIONS and
                       all(isinstance(n, int) and n >= 0 for n in v) for v in (size, stride))
        if not (isinstance(storage, Storage) and isinstance(offset, int) and offset >= 0
                and sizes_ok and len(size) == len(stride)):
            self.fail('holds a tensor record that is not one (storage {}, offset {!r:.40}, '
                      'size {!r:.80}, stride {!r:.80})'.format(
                          type(storage).__name__, offset, size, stride))
        elements = math.prod(size)
        if elements and offset + sum((n - 1) * s for n, s in zip(size, stride)) \
                >= storage.array.size:
            self.fail('holds a tensor of size {} (offset {}, stride {}) beyond its storage of '
                      '{} elements; it is damaged'.format(size, offset, stride,
                                                          storage.array.size))
        self.budget -= elements * storage.array.itemsize
        if self.budget < 0:
            self.fail('holds tensors much larger than the file itself: refused')
        if not elements:
            return numpy.zeros(size, storage.array.dtype.newbyteorder('='))
        itemsize = storage.array.itemsize
        view = numpy.lib.stride_tricks.as_strided(
            storage.array[offset:], size, tuple(s * itemsize for s in stride),
            writeable=False) if size else storage.array[offset:offset + 1].reshape(())
        return numpy.array(view, view.dtype.newbyteorder('='), order='C')


def _parameter(data, requires_grad=False, hooks=None):
    """``torch._utils._rebuild_parameter``: a Parameter is its tensor."""
    return data


class _Unpickler(pickle.Unpickler):
    """Admits only ``collections.OrderedDict``, the tensor and parameter
    rebuilders and ``torch.*Storage``; any other global is refused."""

    def __init__(self, f, owner):
        super().__init__(f)
        self.owner = owner

    def find_class(self, module, name):
        if (module, name) == ('collections', 'OrderedDict'):
            return collections.OrderedDict
        if (module, name) == ('torch._utils', '_rebuild_tensor_v2'):
            return self.owner.tensor
        if (module, name) == ('torch._utils', '_rebuild_parameter'):
            return _parameter
        if module == 'torch' and name in STORAGE_DTYPES:
            return StorageType(name, numpy.dtype(STORAGE_DTYPES[name]))
        self.owner.fail('was refused: its pickle asks for {}.{:.100}, which a state dict of '
                        'tensors never needs (nothing from it was run); use a file written '
                        'by torch.save(model.state_dict(), ...)'.format(module[:100], name))

    def persistent_load(self, pid):
        return self.owner.storage(pid)


def read_tensors(path, max_bytes=2 ** 31):
    """``(OrderedDict name -> numpy array, SHA-256 hex of the file)`` of the
    state dict at ``path``; one UsageError line for any file it cannot read
    as one. The file is read once, so the hash is that of the bytes used."""
    try:
        with open(path, 'rb') as f:
            data = f.read(max_bytes + 1)
    except OSError as e:
        raise UsageError('cannot read {}: {}'.format(path, e.strerror or e))
    if len(data) > max_bytes:
        raise UsageError('{} is larger than {} bytes: not the state dict expected'.format(
            path, max_bytes))
    return TensorFile(path, data).read(), hashlib.sha256(data).hexdigest()
