"""Imports run one way (docs/design.md §6): ``runtime/`` is the ground floor
and imports no other package of the project; ``media/`` builds on ``runtime/``
alone. Read from the source with ``ast`` (every import statement, also those
inside functions), so nothing is imported to check it."""
import ast
import glob
import os
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def project_modules():
    """The names a module of the project can import: its packages and its
    top-level modules (train, evaluate, generate, ...)."""
    names = {os.path.basename(os.path.dirname(p))
             for p in glob.glob(os.path.join(ROOT, '*', '__init__.py'))}
    names |= {os.path.splitext(os.path.basename(p))[0]
              for p in glob.glob(os.path.join(ROOT, '*.py'))}
    return names


def imported(source, package):
    """The top-level names that ``source`` (a module of ``package``) imports;
    relative imports count as ``package``."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names |= {alias.name.split('.')[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            names.add(package if node.level else node.module.split('.')[0])
    return names


def imports_of(package):
    """{module path: the project's packages and modules it imports} for
    every module of ``package``."""
    found = {}
    for path in sorted(glob.glob(os.path.join(ROOT, package, '*.py'))):
        with open(path, encoding='utf-8') as f:
            found[os.path.relpath(path, ROOT)] = imported(f.read(), package) & project_modules()
    return found


class TestImportDirection(unittest.TestCase):

    def test_the_reader(self):
        source = ('import os\nfrom runtime import errors\nimport chainer\n'
                  'def f():\n    from extensions.snapshot import Snapshot\n'
                  'from . import atomic\nimport updaters.wgan as w\n')
        self.assertEqual(imported(source, 'runtime'),
                         {'os', 'runtime', 'chainer', 'extensions', 'updaters'})
        self.assertTrue({'runtime', 'extensions', 'updaters', 'models', 'evaluation',
                         'datasets', 'media', 'train'} <= project_modules())

    def test_runtime_imports_no_other_package_of_the_project(self):
        modules = imports_of('runtime')
        self.assertIn('runtime/distributed.py', modules)
        for path, names in modules.items():
            with self.subTest(module=path):
                self.assertEqual(names - {'runtime'}, set())

    def test_media_builds_on_runtime_alone(self):
        modules = imports_of('media')
        self.assertIn('media/video_files.py', modules)
        for path, names in modules.items():
            with self.subTest(module=path):
                self.assertEqual(names - {'media', 'runtime'}, set())


if __name__ == '__main__':
    unittest.main()
