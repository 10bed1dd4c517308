"""docs/errors.md: every row of its table of bad inputs names a test that
exists and makes the command say the quoted words."""
import importlib
import inspect
import os
import re
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROW = re.compile(r'^\| (\d+) \| ([^|]+) \| ([^|]+) \| `([^`]+)` \| `(test_\w+)\.(\w+)\.(\w+)` \|$')


def rows():
    with open(os.path.join(ROOT, 'docs', 'errors.md')) as f:
        lines = [line.rstrip('\n') for line in f if re.match(r'^\| \d+ \|', line)]
    return lines, [ROW.match(line) for line in lines]


class TestErrorTable(unittest.TestCase):

    def test_every_row_names_a_test_that_checks_its_words(self):
        lines, matches = rows()
        self.assertGreaterEqual(len(lines), 25)
        for line, match in zip(lines, matches):
            with self.subTest(row=line[:40]):
                self.assertIsNotNone(match, 'not a row of the documented shape: ' + line)
                number, _, _, words, module, cls, method = match.groups()
                test = getattr(getattr(importlib.import_module(module), cls), method)
                self.assertIn(words, inspect.getsource(test))
        self.assertEqual([int(m.group(1)) for m in matches], list(range(1, len(lines) + 1)))

    def test_every_command_has_rows(self):
        commands = {m.group(2).strip() for m in rows()[1] if m}
        for command in ('train.py', 'evaluate.py', 'generate.py', 'prepare_ucf101',
                        'make_moving_mnist'):
            self.assertTrue(any(command in c for c in commands), command)


if __name__ == '__main__':
    unittest.main()
