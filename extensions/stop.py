"""Stop after N iterations, or cleanly after the current one on Ctrl-C / SIGTERM."""
import signal
import sys


class StopTrigger:
    """The trainer's stop trigger. The first SIGINT or SIGTERM asks the run to
    stop after the current iteration (so that train.py can write a consistent
    final snapshot); a second SIGINT aborts at once."""

    def __init__(self, iterations):
        self.iterations = iterations
        self.interrupted = False

    def install(self):
        signal.signal(signal.SIGINT, self._on_signal)
        signal.signal(signal.SIGTERM, self._on_signal)

    def _on_signal(self, signum, frame):
        if self.interrupted and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.interrupted = True
        print('\ninterrupted: stopping after this iteration and saving a snapshot '
              '(Ctrl-C again to abort without saving)', file=sys.stderr)

    def get_training_length(self):
        return self.iterations, 'iteration'

    def __call__(self, trainer):
        return self.interrupted or trainer.updater.iteration >= self.iterations
