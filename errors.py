"""The one exception type for bad user input.

Raised for anything a user can fix (a missing file, an unknown config key, a
GPU requested without CuPy); ``train.py`` prints it as one line and exits 2.
"""


class UsageError(Exception):
    pass
