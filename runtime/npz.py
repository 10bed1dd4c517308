"""The one way this project reads npz files (weights, per-model files,
trainer snapshots, the offline classifier, caches, datasets): files from
elsewhere never run code and never make it allocate what they do not hold.

A member is read only after its .npy header (read within ``MAX_HEADER``
bytes) has been checked: its key, its dtype (numbers, or text where the
caller asks for text; never Python objects, which numpy would unpickle) and
its shape, against what the caller expects. Its declared size must be
plausible: within the caller's bound, equal to the size the zip directory
records, and within what its compressed bytes can inflate to. Only the two
ways numpy writes members (stored, deflated) are read, with a decompressor
that stops at the declared size. Anything else is one ``error:`` line that
names the file and the key (docs/errors.md).
"""
import io
import os
import stat
import zipfile

from runtime import chainer_compat  # noqa: F401 (before chainer)

import chainer  # noqa: E402
import numpy  # noqa: E402

from runtime.errors import UsageError  # noqa: E402

MAX_HEADER = 10000  # bytes of a .npy header: numpy's own bound
MAX_BYTES = 2 ** 28  # of one member whose shape the caller does not know
DEFLATE_RATIO = 1032  # deflate's largest expansion (258-byte runs in 2 bits)
NUMBERS = 'biufc'  # dtype kinds of numbers (and booleans)
CHUNK = 2 ** 20


class NpzError(UsageError):
    """An npz file (or one of its arrays) that is refused: unsafe or broken.
    ``detail``: what is wrong, without the file's name."""

    def __init__(self, name, detail):
        super().__init__('{}: {}'.format(name, detail))
        self.detail = detail


class NpzMismatch(NpzError):
    """A sound npz file whose arrays are not the ones expected (a missing key,
    another shape or dtype): callers add how to get the right file."""


class MissingKey(NpzMismatch, KeyError):
    """A key that is not in the file: also a KeyError, which Chainer's
    optimizers catch for state they may lack."""
    __str__ = NpzMismatch.__str__


def _name(file):
    return file if isinstance(file, (str, os.PathLike)) else getattr(file, 'name', 'the npz')


class NpzFile:
    """An npz file opened for checked reading (a path or a binary file
    object): ``files`` lists its keys, ``read`` one array."""

    def __init__(self, file):
        self.name = _name(file)
        if isinstance(file, (str, os.PathLike)):
            try:
                mode = os.stat(file).st_mode
            except OSError as e:
                raise NpzError(self.name, e.strerror)
            if not stat.S_ISREG(mode):  # a FIFO would block, a device never end
                raise NpzError(self.name, 'not a regular file')
            self.size = os.stat(file).st_size
        else:
            self.size = file.seek(0, io.SEEK_END)
        try:
            self.zip = zipfile.ZipFile(file)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as e:
            raise NpzError(self.name, 'not a readable npz file ({}: {})'.format(
                type(e).__name__, str(e)[:80]))
        self.members = {}
        for info in self.zip.infolist():
            key = info.filename[:-4] if info.filename.endswith('.npy') else info.filename
            if key in self.members:
                raise NpzError(self.name, 'two arrays named "{}"'.format(key[:100]))
            self.members[key] = info
        self.files = list(self.members)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.zip.close()

    def __contains__(self, key):
        return key in self.members

    def _refuse(self, key, what, mismatch=False):
        raise (NpzMismatch if mismatch else NpzError)(
            self.name, 'array "{}" {}'.format(key[:100], what))

    def header(self, key):
        """(shape, fortran_order, dtype) of ``key`` from its header alone."""
        *found, f, _ = self._open(key)
        f.close()
        return tuple(found)

    def _open(self, key):
        """(shape, fortran_order, dtype, member file, header bytes) of
        ``key``, its header read within MAX_HEADER bytes; the member file is
        left at the data."""
        if key not in self.members:
            raise MissingKey(self.name, 'has no array "{}" (keys: {}{})'.format(
                key[:100], ', '.join(k[:60] for k in self.files[:6]) or 'none',
                ' ...' if len(self.files) > 6 else ''))
        info = self.members[key]
        if info.flag_bits & 0x1:
            self._refuse(key, 'is encrypted')
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            self._refuse(key, 'is compressed with method {}: only stored or deflated members '
                              '(as numpy writes them) are read'.format(info.compress_type))
        f = None
        try:
            f = self.zip.open(info)
            start = f.read(10)
            if len(start) < 10 or not start.startswith(numpy.lib.format.MAGIC_PREFIX):
                self._refuse(key, 'is not a .npy array')
            version = (start[6], start[7])
            if version == (1, 0):
                length, rest = int.from_bytes(start[8:10], 'little'), b''
            elif version == (2, 0):
                rest = f.read(2)
                length = int.from_bytes(start[8:10] + rest, 'little')
            else:
                self._refuse(key, 'has an unknown .npy version {}'.format(version))
            if length > MAX_HEADER:
                self._refuse(key, 'has a header of {} bytes (at most {})'.format(
                    length, MAX_HEADER))
            preamble = start + rest + f.read(length)
            read = (numpy.lib.format.read_array_header_1_0 if version == (1, 0)
                    else numpy.lib.format.read_array_header_2_0)
            buffer = io.BytesIO(preamble)
            numpy.lib.format.read_magic(buffer)
            shape, fortran, dtype = read(buffer, max_header_size=MAX_HEADER)
        except NpzError:
            if f is not None:
                f.close()
            raise
        except Exception as e:  # any failure to parse the header's literal
            if f is not None:
                f.close()
            self._refuse(key, 'has no readable .npy header ({}: {})'.format(
                type(e).__name__, str(e).splitlines()[0][:80] if str(e) else ''))
        return shape, fortran, dtype, f, len(preamble)

    def check(self, key, shape=None, dtype=None, max_bytes=MAX_BYTES):
        """Check ``key`` from its header: ``shape`` (a tuple, None entries
        free; None: any), ``dtype`` (a dtype it must cast to as numpy.copyto
        does, or a string of the dtype kinds allowed, e.g. 'U' for text;
        None: numbers) and its size (at most ``max_bytes``, and what the
        member holds). Returns (shape, fortran_order, dtype, member file at
        the data, bytes of data)."""
        found_shape, fortran, found, f, preamble = self._open(key)
        try:
            kinds = dtype if isinstance(dtype, str) else NUMBERS
            if found.hasobject:
                self._refuse(key, 'holds Python objects (a pickle, which could run code): only '
                                  'arrays of numbers are read')
            if found.kind not in kinds:
                self._refuse(key, 'is {}, expected {}'.format(
                    found, 'text' if kinds == 'U' else 'numbers'), mismatch=True)
            if dtype is not None and not isinstance(dtype, str) and not numpy.can_cast(
                    found, dtype, casting='same_kind'):
                self._refuse(key, 'is {}, which does not cast to {}'.format(
                    found, numpy.dtype(dtype)), mismatch=True)
            if shape is not None and (len(shape) != len(found_shape) or any(
                    s is not None and s != t for s, t in zip(shape, found_shape))):
                self._refuse(key, 'is {}, expected {}'.format(
                    _shape_text(found_shape), _shape_text(shape)), mismatch=True)
            nbytes = found.itemsize
            for n in found_shape:
                nbytes *= n
            info = self.members[key]
            if nbytes > max_bytes:
                self._refuse(key, 'declares {} {} ({} bytes), more than the {} bytes it may '
                                  'hold'.format(found, _shape_text(found_shape), nbytes,
                                                max_bytes))
            plausible = (info.compress_size * DEFLATE_RATIO + 2 ** 16
                         if info.compress_type == zipfile.ZIP_DEFLATED else self.size)
            if preamble + nbytes != info.file_size or info.file_size > plausible:
                self._refuse(key, 'declares {} bytes in a member of {} bytes ({} compressed): '
                                  'a damaged or crafted file'.format(
                                      nbytes, info.file_size, info.compress_size))
        except NpzError:
            f.close()
            raise
        return found_shape, fortran, found, f, nbytes

    def read(self, key, shape=None, dtype=None, max_bytes=MAX_BYTES):
        """The array ``key``, read after ``check`` (same arguments), with a
        decompressor that stops at the declared size."""
        found_shape, fortran, found, f, nbytes = self.check(key, shape, dtype, max_bytes)
        with f:
            array = numpy.empty(nbytes, numpy.uint8)
            view, done = memoryview(array), 0
            try:
                while done < nbytes:
                    n = f.readinto(view[done:done + CHUNK])
                    if not n:
                        break
                    done += n
                if done < nbytes or f.read(1):
                    self._refuse(key, 'holds {} bytes instead of its {}'.format(done, nbytes))
            except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
                self._refuse(key, 'cannot be read ({}: {})'.format(
                    type(e).__name__, str(e)[:80]))
        array = array.view(found).reshape(found_shape, order='F' if fortran else 'C')
        return array if found.isnative else array.astype(found.newbyteorder('='))


def _shape_text(shape):
    return '({})'.format(', '.join('N' if s is None else str(s) for s in shape)) \
        if len(shape) != 1 else '({},)'.format('N' if shape[0] is None else shape[0])


def read_arrays(file, expected=None, max_bytes=MAX_BYTES):
    """{key: array} of an npz file: every member (arrays of numbers), or the
    keys of ``expected`` (key -> (shape or None, dtype or kinds), see
    ``NpzFile.read``), each checked before it is read; an NpzError line
    otherwise. Other members are not read."""
    with NpzFile(file) as npz:
        if expected is None:
            return {key: npz.read(key, max_bytes=max_bytes) for key in npz.files}
        for key, spec in expected.items():  # every header before any data
            npz.check(key, *spec, max_bytes=max_bytes)[3].close()
        return {key: npz.read(key, *spec, max_bytes=max_bytes) for key, spec in expected.items()}


class Deserializer(chainer.serializer.Deserializer):
    """Chainer's NpzDeserializer on an NpzFile: each value is read with the
    shape and dtype of what it is loaded into (a value Chainer does not know
    yet, e.g. an uninitialized parameter, within ``MAX_BYTES``)."""

    def __init__(self, npz, path='', strict=True):
        self.npz, self.path, self.strict = npz, path, strict

    def __getitem__(self, key):
        return Deserializer(self.npz, self.path + key.strip('/') + '/', self.strict)

    def __call__(self, key, value):
        key = self.path + key.lstrip('/')
        if key not in self.npz:
            if self.strict:
                self.npz.header(key)  # the missing-key line
            return value
        if value is None:
            return self.npz.read(key)
        if isinstance(value, str):
            return str(self.npz.read(key, (), 'U'))
        if isinstance(value, (bool, int, float, numpy.generic)):
            array = self.npz.read(key, ())
            if not (array.dtype.kind in 'iu' and isinstance(value, int)) and not numpy.can_cast(
                    array.dtype, type(value), casting='safe'):
                self.npz._refuse(key, 'is {}, which does not cast to {}'.format(
                    array.dtype, type(value).__name__), mismatch=True)
            return type(value)(array)
        array = self.npz.read(key, value.shape, value.dtype)
        if isinstance(value, numpy.ndarray):
            numpy.copyto(value, array)
        else:  # a CuPy array
            value.set(numpy.asarray(array, dtype=value.dtype))
        return value


def load_npz(file, obj, path='', strict=True):
    """``chainer.serializers.load_npz`` on the checked reader: never unpickles,
    every array checked against what it is loaded into."""
    with NpzFile(file) as npz:
        Deserializer(npz, path, strict).load(obj)
