"""Evaluation of trained generators (paper §6.3, docs/design.md §4): the Inception
Score with C3D under the paper's protocol, the Fréchet distance on C3D
features, and an offline classifier for the synthetic set. ``evaluate.py``
is the command line."""
from runtime import blas_settings  # noqa: F401  (before numpy: first import of python -m evaluation.*)
from runtime import chainer_compat  # noqa: F401
