"""Trainer extensions: atomic snapshots, preview grids, interruption."""
from runtime import chainer_compat  # noqa: F401

from extensions.preview import Preview  # noqa: E402,F401
from extensions.snapshot import (  # noqa: E402,F401
    Snapshot, check_snapshot, latest_snapshot, load_snapshot)
from extensions.stop import StopTrigger  # noqa: E402,F401
