"""Trainer extensions: atomic snapshots, preview grids, interruption."""
import chainer_compat  # noqa: F401

from extensions.preview import Preview  # noqa: E402,F401
from extensions.snapshot import Snapshot, latest_snapshot  # noqa: E402,F401
from extensions.stop import StopTrigger  # noqa: E402,F401
