"""Write files so that a reader never sees a half-written one, and say in one
line what went wrong when a file cannot be written (a full disk, a folder
that cannot be created or written)."""
import contextlib
import os
import shutil
import tempfile

from runtime.errors import UsageError


class OutputError(UsageError):
    """A file could not be written: names the file, its folder and the free
    space left there."""

    def __init__(self, path, reason):
        folder = os.path.dirname(os.path.abspath(path))
        super().__init__('cannot write {}: {} ({} free in {}/)'.format(
            path, reason, size_text(free_space(folder)), folder))


def size_text(n):
    """Bytes as a short human-readable text ('12.3 MB'); 'unknown' for None."""
    if n is None:
        return 'unknown'
    for unit in ('B', 'kB', 'MB', 'GB'):
        if abs(n) < 1000 or unit == 'GB':
            return '{:.0f} {}'.format(n, unit) if unit == 'B' else '{:.1f} {}'.format(n, unit)
        n /= 1000


def free_space(folder):
    """Bytes free for this user in ``folder`` (or its nearest existing parent),
    None where that cannot be read."""
    while folder and not os.path.isdir(folder):
        folder = os.path.dirname(folder)
    try:
        return shutil.disk_usage(folder or '.').free
    except OSError:
        return None


def _reason(error, path):
    """What went wrong, in words; a file where a folder of ``path`` should be
    is named."""
    if isinstance(error, (FileExistsError, NotADirectoryError)):
        parent = os.path.dirname(os.path.abspath(path))
        while parent and not os.path.exists(parent):
            parent = os.path.dirname(parent)
        if os.path.isfile(parent):
            return '{} is a file, not a folder'.format(parent)
    return error.strerror or str(error)


@contextlib.contextmanager
def writing(path):
    """An OSError inside the block becomes an OutputError naming ``path``."""
    try:
        yield
    except OSError as e:
        raise OutputError(path, _reason(e, path)) from e


def make_folder(path):
    """Create the folder ``path`` (and its parents) and make sure a file can
    be written in it; an OutputError otherwise."""
    probe = os.path.join(path, '.write-test')
    try:
        os.makedirs(path, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix='.write-test'):
            pass
    except OSError as e:
        raise OutputError(probe if os.path.isdir(path) else path,
                          _reason(e, os.path.join(path, '.write-test')))


def ensure_free(path, nbytes):
    """An OutputError unless the folder of ``path`` has ``nbytes`` free (read
    where the system tells, else not checked)."""
    free = free_space(os.path.dirname(os.path.abspath(path)))
    if free is not None and free < nbytes:
        raise OutputError(path, 'not enough free space: it needs about {}'.format(
            size_text(nbytes)))


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path next to ``path``; on success, flush it to disk
    and rename it over ``path`` (atomic on POSIX); on failure, remove it. An
    OSError of the writing becomes an OutputError naming ``path``."""
    directory = os.path.dirname(os.path.abspath(path))
    tmp = None
    try:
        with writing(path):
            os.makedirs(directory, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix='.' + os.path.basename(path) + '.', dir=directory)
            os.close(fd)
            yield tmp
            with open(tmp, 'rb+') as f:
                os.fsync(f.fileno())
            os.chmod(tmp, 0o666 & ~_umask())  # mkstemp's files are private (0600)
            os.replace(tmp, path)
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.remove(tmp)


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask
