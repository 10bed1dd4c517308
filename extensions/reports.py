"""Chainer's log and plot reports, with a failed write as one line that names
the file (a full disk must not end a run in a traceback from inside Chainer),
each file replaced by a rename, never written through a link that stands
in its place (a ``loss.png`` linked elsewhere leaves the target untouched)."""
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


class PlotReport(extensions.PlotReport):
    """Chainer's PlotReport (same name, so snapshots keep their keys); the plot
    goes to a temporary file of the folder, then is renamed over its name.
    (Chainer's LogReport already writes its log that way.)"""

    def __call__(self, trainer):
        name = self._file_name
        path = os.path.join(trainer.out, name)
        self._file_name = '.{}.{}'.format(os.getpid(), name)  # the extension picks the format
        tmp = os.path.join(trainer.out, self._file_name)
        try:
            with writing(path):
                super().__call__(trainer)
                if os.path.lexists(tmp):  # plotted at this call
                    os.replace(tmp, path)
        finally:
            self._file_name = name
            if os.path.lexists(tmp):
                os.remove(tmp)
