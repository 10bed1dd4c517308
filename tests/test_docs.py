"""The documentation's links and preset names (README.md and docs/*.md).

Every relative link points to a file that exists, every ``#anchor`` to a
heading of the target page (GitHub's anchor rule), every docs page is linked
from the front page, and every preset the pages name is a file in configs/.
Standard library only, no network, well under a second.
"""
import glob
import os
import re
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# A markdown link or image: [text](target) / ![alt](target); the text may hold
# backticks but no brackets, the target no spaces or parentheses.
LINK = re.compile(r'!?\[[^\]]*\]\(([^)\s]+)\)')
FENCE = re.compile(r'^\s*(```|~~~)')
HEADING = re.compile(r'^(#{1,6})\s+(.*?)\s*#*\s*$')
CONFIG_OPTION = re.compile(r'--config[ =]+([^\s`)\]|,;]+)')
BACKTICKED = re.compile(r'`([^`\n]+)`')
PRESET_LIKE = re.compile(r'^(ucf101|moving_mnist|golf|synthetic)_\w+$')
# Backticked words that look like presets but are not: data folders and the
# like. Each needs a reason here.
NOT_PRESETS = {
    'ucf101_64',  # the UCF-101 frame store's folder (data/ucf101_64), not a preset
}


def doc_files():
    """README.md and docs/*.md, as paths relative to the repository."""
    return ['README.md'] + sorted(
        os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(ROOT, 'docs', '*.md')))


def read(path):
    with open(os.path.join(ROOT, path), encoding='utf-8') as f:
        return f.read()


def split_code(text):
    """(prose lines, code lines) with their 1-based numbers; fenced code
    blocks (``` or ~~~) are code, their fence lines included."""
    prose, code = [], []
    inside = False
    for number, line in enumerate(text.split('\n'), 1):
        if FENCE.match(line):
            inside = not inside
            code.append((number, line))
        elif inside:
            code.append((number, line))
        else:
            prose.append((number, line))
    return prose, code


def github_anchor(heading):
    """GitHub's anchor of a heading's text: markdown links and images read
    as their text; lowercase; every character that is not a letter, digit,
    space, hyphen or underscore removed; spaces to hyphens."""
    text = re.sub(r'!?\[([^\]]*)\]\([^)]*\)', r'\1', heading)
    text = re.sub(r'[^\w\- ]', '', text.lower())
    return text.replace(' ', '-')


def anchors(path):
    """The anchors of a markdown file's headings, repeated ones with -1, -2, ..."""
    found, seen = set(), {}
    prose, _ = split_code(read(path))
    for _, line in prose:
        match = HEADING.match(line)
        if not match:
            continue
        base = github_anchor(match.group(2))
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else '{}-{}'.format(base, count))
    return found


def links(path):
    """(line number, target) of every link outside fenced code blocks."""
    prose, _ = split_code(read(path))
    return [(number, target) for number, line in prose for target in LINK.findall(line)]


def is_external(target):
    return re.match(r'^(https?:|mailto:)', target) is not None


def named_presets(path):
    """(line number, name) of every preset a page names: each ``--config NAME``
    (prose and code alike; not a .yaml path or a placeholder), and outside
    code blocks each backticked word shaped like a preset (``ucf101_...``,
    ``moving_mnist_...``, ``golf_...``, ``synthetic_...``) or ``demo`` in a
    table row."""
    text = read(path)
    names = []
    for match in CONFIG_OPTION.finditer(text):
        name = match.group(1)
        number = text.count('\n', 0, match.start()) + 1
        if (name.endswith(('.yaml', '.yml')) or '/' in name or '...' in name
                or name.upper() == name):
            continue
        names.append((number, name))
    prose, _ = split_code(text)
    for number, line in prose:
        for word in BACKTICKED.findall(line):
            word = word.strip()
            if '.' in word or '/' in word or word in NOT_PRESETS:
                continue
            if PRESET_LIKE.match(word) or (word == 'demo' and line.lstrip().startswith('|')):
                names.append((number, word))
    return names


class TestDocLinks(unittest.TestCase):

    def test_relative_links_and_anchors(self):
        problems = []
        checked = 0
        for path in doc_files():
            for number, target in links(path):
                if is_external(target):
                    continue
                checked += 1
                file_part, _, anchor = target.partition('#')
                where = '{}:{}: {}'.format(path, number, target)
                if file_part:
                    resolved = os.path.normpath(
                        os.path.join(os.path.dirname(path), file_part))
                else:
                    resolved = path
                if not os.path.exists(os.path.join(ROOT, resolved)):
                    problems.append('{}: no file {}'.format(where, resolved))
                    continue
                if anchor:
                    if not resolved.endswith('.md'):
                        problems.append('{}: anchor into a non-markdown file'.format(where))
                    elif anchor not in anchors(resolved):
                        problems.append('{}: no heading with anchor #{} in {}'.format(
                            where, anchor, resolved))
        self.assertGreater(checked, 50, 'the link pattern found too few links')
        self.assertEqual(problems, [], '\n' + '\n'.join(problems))

    def test_front_page_links_every_docs_page(self):
        linked = {os.path.normpath(target.partition('#')[0])
                  for _, target in links('README.md') if not is_external(target)}
        pages = [p for p in doc_files() if p != 'README.md']
        self.assertTrue(pages)
        self.assertEqual([p for p in pages if p not in linked], [],
                         'docs pages the README does not link to')


class TestDocPresets(unittest.TestCase):

    def test_named_presets_exist(self):
        problems = []
        names = set()
        for path in doc_files():
            for number, name in named_presets(path):
                names.add(name)
                if not os.path.isfile(os.path.join(ROOT, 'configs', name + '.yaml')):
                    problems.append('{}:{}: no configs/{}.yaml'.format(path, number, name))
        self.assertIn('ucf101_svc', names, 'the preset pattern found nothing')
        self.assertIn('demo', names)
        self.assertEqual(problems, [], '\n' + '\n'.join(problems))


class TestHelpers(unittest.TestCase):
    """The rules the checks rest on, on hand-made input."""

    def test_github_anchor(self):
        self.assertEqual(github_anchor('Sampling (generate.py)'), 'sampling-generatepy')
        self.assertEqual(github_anchor("The paper's other experiments"),
                         'the-papers-other-experiments')
        self.assertEqual(github_anchor('Presets (`configs/`)'), 'presets-configs')
        self.assertEqual(github_anchor('Conditional TGAN (paper §5.2)'),
                         'conditional-tgan-paper-52')
        self.assertEqual(github_anchor('Fréchet & co'), 'fréchet--co')
        self.assertEqual(github_anchor('See [Data](data.md)'), 'see-data')

    def test_link_pattern(self):
        line = 'a [b](x.md#y), ![c](d.gif) and [`e`](https://f) (g)'
        self.assertEqual(LINK.findall(line), ['x.md#y', 'd.gif', 'https://f'])


if __name__ == '__main__':
    unittest.main()
