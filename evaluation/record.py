"""The JSON record of an evaluation: scores, settings, weight-file hashes, versions."""
import hashlib
import json
import platform

import chainer
import numpy

from runtime.atomic import atomic_path


def sha256(path):
    """Hex SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def versions():
    """Python, Chainer, numpy, OpenCV and (if importable) CuPy versions."""
    import cv2
    found = {'python': platform.python_version(), 'chainer': chainer.__version__,
             'numpy': numpy.__version__, 'opencv': cv2.__version__}
    if chainer.backends.cuda.available:
        found['cupy'] = chainer.backends.cuda.cupy.__version__
    return found


def write_record(path, record):
    """Write ``record`` as indented JSON, atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, 'w') as f:
            json.dump(record, f, indent=2)
            f.write('\n')
