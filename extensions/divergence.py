"""Stop a diverging run before it writes non-finite weights."""
import math

import chainer
from chainer.training import extensions

from runtime.errors import UsageError
from updaters.wgan import REPORTED


class Diverged(UsageError):
    pass


class StopOnNonFinite(extensions.FailOnNonNumber):
    """Stop the run at the first NaN or infinity: in the losses and critic
    scores reported in every iteration, and, in the iterations that write a
    snapshot (``snapshot_due(trainer)``), in any weight (Chainer's
    FailOnNonNumber: weights can leave the finite range in the update after
    finite losses). Raises :class:`Diverged` naming the iteration and the
    values, before the writing extensions run, so that nothing of that
    iteration is saved and the last good snapshot stays the latest.

    Runs after the ranks' averaging of the reports (an editor) and before the
    writers; reading the values waits for the iteration's device work.
    """
    priority = chainer.training.PRIORITY_EDITOR - 1

    def __init__(self, snapshot_due):
        self.snapshot_due = snapshot_due

    def __call__(self, trainer):
        observation = trainer.observation
        values = {key: float(chainer.as_array(observation[key])) for key in REPORTED
                  if key in observation}
        bad = [key for key, value in values.items() if not math.isfinite(value)]
        if bad:
            self.stop(trainer, ', '.join('{} is {}'.format(k, values[k]) for k in bad))
        if self.snapshot_due(trainer):
            try:
                super().__call__(trainer)
            except RuntimeError:
                self.stop(trainer, 'the weights hold NaN or infinite values')

    def stop(self, trainer, what):
        from extensions.snapshot import latest_snapshot
        latest = latest_snapshot(trainer.out)
        raise Diverged('iteration {}: {}: the run diverged and stopped without saving this '
                       'iteration; {}'.format(
                           trainer.updater.iteration, what,
                           'its latest snapshot is {}: resume from it with `python train.py '
                           '--resume {}` (with a lower learning rate, --set optimizer.lr=...)'
                           .format(latest, latest) if latest else 'it has no snapshot yet'))
