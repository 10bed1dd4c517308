"""Outputs never escape their folder and runs never mix: a link in place of
an output is replaced (never written through), folder names are literal
paths (never glob patterns), a second run into a folder that holds another
run's snapshots is refused; configs are bounded before anything is made."""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import configs
from runtime.errors import UsageError
from test_train import ROOT, TINY, one_error_line, tiny_config, train


class TestOutputs(unittest.TestCase):

    def setUp(self):
        self.dir, self.config = tiny_config(TINY)

    def tearDown(self):
        shutil.rmtree(self.dir)

    def path(self, *names):
        return os.path.join(self.dir, *names)

    def assertRefused(self, done, *fragments):
        one_error_line(self, done, *fragments)

    def test_links_glob_characters_and_mixed_runs(self):
        # another run whose folder name a glob pattern 'run[1]' would match
        other = self.path('runs', 'run1')
        done = train('--config', self.config, '--out', other, '--iterations', '3')
        self.assertEqual(done.returncode, 0, done.stderr)
        before = sorted(os.listdir(other))
        # a run into 'run[1]', whose loss.png is a link to a file outside
        target = self.path('precious.txt')
        with open(target, 'w') as f:
            f.write('keep me')
        out = self.path('runs', 'run[1]')
        os.makedirs(out)
        for name in ('loss.png', 'log', 'config.yaml'):
            os.symlink(target, os.path.join(out, name))
        done = train('--config', self.config, '--out', out, '--iterations', '6',
                     '--set', 'snapshot_keep=1')
        self.assertEqual(done.returncode, 0, done.stderr)
        with open(target) as f:
            self.assertEqual(f.read(), 'keep me')
        for name in ('loss.png', 'log', 'config.yaml'):
            self.assertFalse(os.path.islink(os.path.join(out, name)))
        with open(os.path.join(out, 'loss.png'), 'rb') as f:
            self.assertEqual(f.read(8), b'\x89PNG\r\n\x1a\n')
        self.assertEqual(sorted(os.listdir(other)), before)  # not pruned as run[1]'s
        self.assertIn('snapshot_iter_6.npz', os.listdir(out))
        self.assertNotIn('snapshot_iter_3.npz', os.listdir(out))  # its own pruned
        self.assertIn('resumed from {}'.format(os.path.join(out, 'snapshot_iter_6.npz')),
                      train('--resume', out, '--iterations', '6').stdout)
        # a second run into a folder with another run's snapshots
        done = train('--config', self.config, '--out', other, '--iterations', '3')
        self.assertRefused(done, '--out {} holds the snapshots of another run '
                                 '(snapshot_iter_3.npz): continue that run with `python '
                                 'train.py --resume {}`, or give a fresh --out'.format(other,
                                                                                         other))
        self.assertEqual(sorted(os.listdir(other)), before)


class TestConfigBounds(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.dir)

    def write(self, text):
        path = os.path.join(self.dir, 'c.yaml')
        with open(path, 'w') as f:
            f.write(text)
        return path

    def test_sizes_out_of_range(self):
        for override, words in (({'z0_dim': 100000000}, 'z0_dim 100000000 is out of range: '
                                                        'it must be between 1 and 8192'),
                                ({'critic.ch': 0}, 'critic.ch 0 is out of range'),
                                ({'frames': 10 ** 6}, 'frames 1000000 is out of range'),
                                ({'size': 70000}, 'size 70000 is out of range')):
            with self.subTest(override=override), self.assertRaises(UsageError) as error:
                configs.load('synthetic_svc', override)
            self.assertIn(words, str(error.exception))

    def test_alias_bomb_and_long_values(self):
        bomb = 'a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x"]\n' + ''.join(
            '{0}: &{0} [*{1}, *{1}, *{1}, *{1}, *{1}, *{1}, *{1}, *{1}, *{1}]\n'.format(
                chr(ord('b') + i), chr(ord('a') + i)) for i in range(8))
        with self.assertRaises(UsageError) as error:
            configs.load(self.write(bomb))
        self.assertIn('not valid YAML: aliases (*a) are not allowed in a config',
                      str(error.exception))
        # in a result folder received from elsewhere: generate.py stops at once, in one line
        os.rename(os.path.join(self.dir, 'c.yaml'), os.path.join(self.dir, 'config.yaml'))
        done = subprocess.run([sys.executable, 'generate.py', '--result', self.dir, '--out',
                               os.path.join(self.dir, 'a.gif')], cwd=ROOT, capture_output=True,
                              text=True, timeout=120)
        self.assertEqual(done.returncode, 2, done.stderr)
        self.assertEqual(len(done.stderr.strip().splitlines()), 1, done.stderr)
        self.assertIn('aliases (*a) are not allowed in a config', done.stderr)
        with self.assertRaises(UsageError) as error:
            configs.load(self.write('z0_dim: "{}"\n'.format('9' * 100000)))
        self.assertLess(len(str(error.exception)), 300)
        self.assertIn("'z0_dim' must be an int, got '9999", str(error.exception))
        with self.assertRaises(UsageError) as error:
            configs.load(self.write('# padding\n' * 200000))
        self.assertIn('c.yaml is larger than 1048576 bytes: not a config', str(error.exception))


if __name__ == '__main__':
    unittest.main()
