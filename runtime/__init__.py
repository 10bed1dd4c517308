"""What the commands run on, apart from the paper's method: the patches that
make Chainer 7.8.1 run on today's numpy and Python (``chainer_compat``, imported
before chainer), the OpenBLAS settings (``blas_settings``, imported before
numpy) and the allocator setting, the device of ``--gpu`` and the processes of
``mpiexec`` (``devices``, ``distributed``), files written atomically
(``atomic``), npz files read without pickles, each array checked before it
is read (``npz``), PyTorch state dicts read without PyTorch (``torch_file``)
and the one-line error of every command (``errors``).

This package's ``__init__`` imports nothing, so that ``from runtime import
blas_settings`` still runs before numpy loads.
"""
