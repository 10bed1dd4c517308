"""Evaluation of trained generators and of anyone's videos (paper §6.3,
docs/design.md §4). The library: ``metrics`` (one module per metric behind
one registry: the Inception Score with C3D or the offline classifier, FVD
with I3D), ``frechet`` (Gaussian statistics, the Fréchet distance, their
checksummed cache), ``snapshots`` (a run's networks), ``sampling`` (videos
from a generator or a dataset), ``video_sets`` (videos in files),
``pipeline`` (evaluate.py's steps), ``table``, ``record``, ``offline``,
``generation`` (generate.py's). The commands (``python -m evaluation.X``):
``fvd``, ``gam``, ``label_accuracy``, ``train_classifier``, ``shape_motion``."""
from runtime import blas_settings  # noqa: F401  (before numpy: first import of python -m evaluation.*)
from runtime import chainer_compat  # noqa: F401
