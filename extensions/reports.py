"""Chainer's log and plot reports, with a failed write as one line that names
the file (a full disk must not end a run in a traceback from inside Chainer)."""
import os

from chainer.training import extensions

from runtime.atomic import writing


class _NamesItsFile:

    def __call__(self, trainer):
        with writing(os.path.join(trainer.out, self.file_name)):
            return super().__call__(trainer)


class LogReport(_NamesItsFile, extensions.LogReport):
    """Chainer's LogReport (same name, so snapshots keep their keys)."""

    @property
    def file_name(self):
        return self._log_name


class PlotReport(_NamesItsFile, extensions.PlotReport):
    """Chainer's PlotReport (same name, so snapshots keep their keys)."""

    @property
    def file_name(self):
        return self._file_name
