"""Our Chainer functions, built for speed on CPUs and GPUs without cuDNN:
convolution and deconvolution (``convolution.py`` on ``grids.py``,
``plan.py`` and ``algorithms.py``), batch normalisation, leaky ReLU; and the
choice between them and Chainer's own (``choice.py``, config key ``functions``)."""
