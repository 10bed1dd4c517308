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
        self._decision = (None, False)  # (iteration, stop after it?)

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

    def stops_after(self, trainer):
        """Whether the run ends after the current iteration."""
        return self.interrupted or trainer.updater.iteration >= self.iterations

    def __call__(self, trainer):
        # decided once per iteration, so that the extensions that run at the
        # end (``or_every``) and the trainer's loop see the same decision
        iteration = trainer.updater.iteration
        if self._decision[0] != iteration:
            self._decision = (iteration, self.stops_after(trainer))
        return self._decision[1]

    def or_every(self, interval):
        """A trigger every ``interval`` iterations and after the last one, for
        the extensions that must also save the end of a run (snapshots,
        previews): they run inside the trainer's loop, before it finalizes the
        iterators (a MultiprocessIterator cannot be saved after that)."""
        return lambda trainer: trainer.updater.iteration % interval == 0 or self(trainer)
