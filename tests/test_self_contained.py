"""The repository stands on its own: no tracked file names a path outside it.

Three kinds of reference are refused in every tracked text file: a relative
path starting with ``../`` that does not lead, from the file's own folder, to
something inside the repository; an absolute path into the work folder of the
machine the project was built on; and the names of notes that were never part
of the repository (the team's design, stack, CPU-demo and FVD notes). What they
said lives in docs/ (docs/design.md, docs/install.md, docs/demo.md).
Standard library and git only, no network, well under a second.
"""
import os
import re
import shutil
import subprocess
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# A path that climbs: one or more ``../`` not glued to a longer path, then
# anything up to a quote, bracket, backtick, comma or space.
CLIMBING = re.compile(r'(?<![\w./-])((?:\.\./)+[^\s\'"`()\[\]{}<>,;|]*)')
# Written in pieces so that this file does not match itself.
OUTSIDE_NAMES = [
    re.compile('/' + 'work' + r'/'),
    re.compile(r'\b(?:DESIGN|STACK|CPU-DEMO|FVD)' + r'\.md\b'),
    re.compile(r'\bDESIGN' + ' §'),
]


def tracked_files():
    """The repository's tracked files, relative to its root."""
    listing = subprocess.run(['git', 'ls-files', '-z'], cwd=ROOT, check=True,
                             stdout=subprocess.PIPE).stdout.decode('utf-8')
    return [path for path in listing.split('\0') if path]


def read_text(path):
    """The file's text, or None for a binary file (a NUL byte or not UTF-8)."""
    with open(os.path.join(ROOT, path), 'rb') as f:
        data = f.read()
    if b'\0' in data:
        return None
    try:
        return data.decode('utf-8')
    except UnicodeDecodeError:
        return None


def outside_references(path, text, root=ROOT):
    """[(line number, what)] for each reference in ``text`` (the file ``path``
    relative to ``root``) to something outside the repository."""
    found = []
    folder = os.path.dirname(os.path.join(root, path))
    for number, line in enumerate(text.split('\n'), 1):
        for match in CLIMBING.finditer(line):
            target = os.path.normpath(os.path.join(folder, match.group(1).split('#')[0]))
            inside = os.path.commonpath([root, target]) == root
            if not (inside and os.path.exists(target)):
                found.append((number, match.group(1)))
        for pattern in OUTSIDE_NAMES:
            found.extend((number, match.group(0)) for match in pattern.finditer(line))
    return found


UP = '..' '/'


class TestChecker(unittest.TestCase):
    """The check finds what it should and nothing else (on text made here)."""

    def check(self, path, text):
        return [what for _, what in outside_references(path, text)]

    def test_links_inside_the_repository_pass(self):
        self.assertEqual(self.check('docs/x.md', 'see [README](../README.md#licence)'), [])
        self.assertEqual(self.check('tests/x.py', "os.path.join(HERE, '../runtime')"), [])
        self.assertEqual(self.check('x.py', "os.path.join(HERE, '..')"), [])

    # The examples below are written in pieces (UP = '..' '/') so that this
    # file, which is tracked too, does not match itself.

    def test_paths_that_leave_the_repository_fail(self):
        self.assertEqual(self.check('README.md', 'the notes in ' + UP + 'shared/x.md'),
                         [UP + 'shared/x.md'])
        self.assertEqual(self.check('docs/x.md', '[notes](' + UP + UP + 'notes.md)'),
                         [UP + UP + 'notes.md'])
        # inside the tree but not there: a folder kept beside the clone, not in it
        self.assertEqual(self.check('docs/x.md', '`' + UP + 'shared/bench/x.py`'),
                         [UP + 'shared/bench/x.py'])

    def test_machine_paths_and_outside_notes_fail(self):
        self.assertEqual(len(self.check('x.py', 'open("/' + 'work/main/x")')), 1)
        self.assertEqual(len(self.check('x.py', '# see ' + 'STACK' + '.md')), 1)
        self.assertEqual(len(self.check('x.py', '"""float64 (DESIGN' + ' §2)"""')), 1)
        self.assertEqual(self.check('x.py', '"""float64 (docs/design.md §2)"""'), [])


@unittest.skipUnless(shutil.which('git') and os.path.exists(os.path.join(ROOT, '.git')),
                     'not a git checkout: no list of tracked files')
class TestRepository(unittest.TestCase):

    def test_no_tracked_file_refers_outside_the_repository(self):
        problems = []
        for path in tracked_files():
            text = read_text(path) if os.path.isfile(os.path.join(ROOT, path)) else None
            if text is None:
                continue
            problems.extend('{}:{}: {}'.format(path, number, what)
                            for number, what in outside_references(path, text))
        self.assertEqual(problems, [], 'tracked files refer to paths outside the repository; '
                         'carry what they point to into docs/ and cite that instead')


if __name__ == '__main__':
    unittest.main()
