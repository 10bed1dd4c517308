"""Trainer extensions: atomic snapshots, preview grids, interruption, the
stop of a diverging run, log and plot reports, and what the trainer of a
multi-process run adds (``extensions.distributed``)."""
from runtime import chainer_compat  # noqa: F401

from extensions.divergence import StopOnNonFinite  # noqa: E402,F401

from extensions.preview import Preview  # noqa: E402,F401
from extensions.reports import LogReport, PlotReport  # noqa: E402,F401
from extensions.snapshot import (  # noqa: E402,F401
    Snapshot, check_processes, check_snapshot, latest_snapshot, load_snapshot)
from extensions import distributed  # noqa: E402,F401
from extensions.stop import StopTrigger  # noqa: E402,F401
