"""The one exception type for bad user input.

Raised for anything a user can fix (a missing file, an unknown config key, a
GPU requested without CuPy); the command lines print it as one line and exit 2.
"""
import sys


class UsageError(Exception):
    pass


def run_command(main):
    """Exit with ``main()``'s status; a UsageError becomes one ``error:``
    line on stderr and status 2 (every command line of the project)."""
    try:
        sys.exit(main())
    except UsageError as error:
        # one write, so that the lines of several MPI processes do not interleave
        sys.stderr.write('error: {}\n'.format(error))
        sys.stderr.flush()
        sys.exit(2)
