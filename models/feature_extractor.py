"""Classifiers that return chosen activations, in the manner of ChainerCV's feature extractors."""
import os

import chainer

from runtime.errors import UsageError
from runtime.npz import Deserializer, NpzError, NpzFile


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
    """Load the npz ``path`` into ``link`` after checking (from the headers
    alone, runtime/npz.py) that it holds exactly ``link``'s parameters with
    their shapes and number dtypes; else one UsageError line."""
    if not os.path.isfile(path):
        raise UsageError('{} not found: {}'.format(path, how_to_get))
    params = {name.lstrip('/'): p for name, p in link.namedparams()}
    expected = {name: p.shape for name, p in params.items()}
    try:
        with NpzFile(path) as npz:
            missing = sorted(set(expected) - set(npz.files))
            if missing:
                raise UsageError('{} is not the expected weight file: missing keys {} (found '
                                 '{}); {}'.format(path, ', '.join(missing[:6]) + (
                                     ' ...' if len(missing) > 6 else ''),
                                     ', '.join(sorted(npz.files)[:6]) or 'none', how_to_get))
            found = {key: npz.header(key)[0] for key in expected}
            wrong = ['{} is {} (expected {})'.format(k, found[k], expected[k])
                     for k in sorted(expected) if tuple(found[k]) != tuple(expected[k])]
            if wrong:
                raise UsageError('{} is not the expected weight file: {}; {}'.format(
                    path, '; '.join(wrong[:3]), how_to_get))
            for key in sorted(params):  # dtypes and sizes too, before any array is read
                npz.check(key, params[key].shape, params[key].dtype)[3].close()
            Deserializer(npz).load(link)
    except NpzError as e:
        raise UsageError('{}: {}'.format(e, how_to_get))
