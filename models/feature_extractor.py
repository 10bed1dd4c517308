"""Classifiers that return chosen activations, in the manner of ChainerCV's feature extractors."""
import os
import zipfile

import chainer
import numpy

from runtime.errors import UsageError


class FeatureExtractor(chainer.Chain):
    """A Chain whose ``forward`` returns the activations named in
    ``layer_names``: one array for a name, a tuple for a list of names.

    Subclasses list their layers in ``available_layers`` (forward order)
    and compute them with ``run``, which stops after the last wanted one.
    """
    available_layers = ()

    @property
    def layer_names(self):
        return self._layer_names

    @layer_names.setter
    def layer_names(self, names):
        self.check_layers(names)
        self._layer_names = names

    def check_layers(self, names):
        """``names`` (a name or a list) as a list; one UsageError line for an
        unknown name or none."""
        wanted = [names] if isinstance(names, str) else list(names)
        unknown = [n for n in wanted if n not in self.available_layers]
        if unknown or not wanted:
            raise UsageError('unknown {} layer(s) {}: choose from {}'.format(
                type(self).__name__, ', '.join(unknown) or '(none given)',
                ', '.join(self.available_layers)))
        return wanted

    def activations(self, x, steps, wanted):
        """Apply ``steps`` ((name, function) pairs, in ``available_layers``
        order) until the last of the layers ``wanted``; {name: activation}."""
        activations, h = {}, x
        for name, step in steps:
            h = activations[name] = step(h)
            if all(n in activations for n in wanted):
                break
        return {n: activations[n] for n in wanted}

    def run(self, x, steps):
        """The activations of ``layer_names``: one array for a name, a tuple
        for a list."""
        wanted = self.check_layers(self.layer_names)
        activations = self.activations(x, steps, wanted)
        if isinstance(self.layer_names, str):
            return activations[self.layer_names]
        return tuple(activations[n] for n in wanted)


def load_checked(path, link, how_to_get):
    """``load_npz(path, link)`` after checking that the file exists and holds
    exactly ``link``'s parameters with their shapes; else one UsageError line."""
    if not os.path.isfile(path):
        raise UsageError('{} not found: {}'.format(path, how_to_get))
    expected = {name.lstrip('/'): p.shape for name, p in link.namedparams()}
    try:
        found = npz_shapes(path)
    except Exception as e:  # not an npz at all
        raise UsageError('{} is not a readable npz file ({}): {}'.format(
            path, type(e).__name__, how_to_get))
    missing = sorted(set(expected) - set(found))
    if missing:
        raise UsageError('{} is not the expected weight file: missing keys {} (found {}); '
                         '{}'.format(path, ', '.join(missing[:6]) + (' ...' if len(missing) > 6
                                                                   else ''),
                                     ', '.join(sorted(found)[:6]) or 'none', how_to_get))
    wrong = ['{} is {} (expected {})'.format(k, found[k], expected[k])
             for k in sorted(expected) if tuple(found[k]) != tuple(expected[k])]
    if wrong:
        raise UsageError('{} is not the expected weight file: {}; {}'.format(
            path, '; '.join(wrong[:3]), how_to_get))
    chainer.serializers.load_npz(path, link)


def npz_shapes(path):
    """{key: shape} of the arrays in an npz file, read from the headers only."""
    shapes = {}
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            with archive.open(name) as f:
                version = numpy.lib.format.read_magic(f)
                read = (numpy.lib.format.read_array_header_1_0 if version == (1, 0)
                        else numpy.lib.format.read_array_header_2_0)
                shapes[name[:-4] if name.endswith('.npy') else name] = read(f)[0]
    return shapes
