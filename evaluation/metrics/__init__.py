"""The metrics ``evaluate.py --metric`` computes, one module each, by name.

A metric is a class built as ``Metric(args, protocol, device)`` (``args``:
evaluate.py's options; ``protocol``: one of its ``PROTOCOLS`` or None for
its default) that loads its feature extractor and offers:

- ``name``, ``PROTOCOLS`` ({name: Protocol}; a Protocol has at least
  ``name n_samples runs batchsize``), ``protocol``, ``files`` ({path:
  SHA-256} of the weight files it read);
- ``real_layer``: the features whose real statistics (Gaussian, cached by
  ``evaluation.frechet``) it compares against, or None;
- ``check_fits(description)``: refuse videos of a dataset it cannot score;
- ``statistics_key()``: what its real statistics depend on besides the data;
- ``real_features(batches)``: (N, D) features of real clips;
- ``run(batches, seed, real)``: {value name: float} of one run's videos
  (``real``: (mu, sigma) or None);
- ``report(result, label, real_name)``: printed lines; ``settings()``: for the record.

Batches are (B, C, T, H, W) on the device: a generator's float32 in [-1, 1]
or a dataset's clips as stored (uint8 or float32). ``evaluation.runs`` runs
them; adding a metric is a module here and a line below.
"""
from evaluation.metrics.fvd import FVD
from evaluation.metrics.inception_score import InceptionScore

METRICS = {'is': InceptionScore, 'fvd': FVD}
