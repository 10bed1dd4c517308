"""An offline Moving-MNIST-style dataset the project generates itself (docs/design.md §3).

Objects (squares, discs, triangles, crosses) move at constant speed inside the
frame and bounce off its walls, in the manner of Srivastava et al.'s Moving
MNIST; overlapping objects combine by maximum. Every clip is a pure function
of (seed, index), so the set needs no storage, is identical on every machine
and can be as large as wanted.
"""
import chainer
import numpy

from runtime.errors import UsageError

SHAPES = ('square', 'disc', 'triangle', 'cross')


def shape_mask(shape, size):
    """A (size, size) boolean mask of one object."""
    r = numpy.arange(size) + 0.5 - size / 2
    y, x = numpy.meshgrid(r, r, indexing='ij')
    half = size / 2
    if shape == 'square':
        return numpy.ones((size, size), bool)
    if shape == 'disc':
        return x ** 2 + y ** 2 <= half ** 2
    if shape == 'triangle':
        return numpy.abs(x) <= (y + half) / 2
    if shape == 'cross':
        return (numpy.abs(x) < size / 6) | (numpy.abs(y) < size / 6)
    raise UsageError('unknown shape {!r}: choose from {}'.format(shape, ', '.join(SHAPES)))


class SyntheticMovingShapes(chainer.dataset.DatasetMixin):
    """Clips of ``n_objects`` objects of one shape bouncing in a ``size`` x ``size`` frame.

    Returns float32 (channels, frames, size, size) in [-1, 1] (background -1),
    like the real datasets. The label of a clip is the index of its shape in
    ``shapes`` (``self.labels``, named by ``self.class_names``), for evaluation
    and the conditional model.
    With ``channels=3`` each object gets a random colour.

    Args:
        n_clips: number of clips.
        frames, size, channels: clip geometry.
        shapes: object shapes to draw from (one per clip, all objects alike).
        n_objects: (min, max) number of objects per clip.
        object_size: side of an object's bounding box in pixels.
        speed: (min, max) speed in pixels per frame.
        seed: the clips are a function of (seed, index).
    """

    def __init__(self, n_clips=10000, frames=16, size=64, channels=1,
                 shapes=SHAPES, n_objects=(1, 2), object_size=16,
                 speed=(1.0, 3.0), seed=0):
        if object_size > size:
            raise UsageError('object_size {} is larger than the frame size {}'.format(
                object_size, size))
        self.n_clips, self.frames, self.size, self.channels = n_clips, frames, size, channels
        self.shapes = tuple(shapes)
        self.class_names = list(self.shapes)
        self.masks = [shape_mask(s, object_size) for s in self.shapes]
        self.n_objects, self.object_size = tuple(n_objects), object_size
        self.speed, self.seed = tuple(speed), seed
        self.labels = numpy.array([self._label(i) for i in range(n_clips)], numpy.int32)

    def __len__(self):
        return self.n_clips

    def _rng(self, i):
        return numpy.random.RandomState([self.seed, i])

    def _label(self, i):
        """The first draw of clip i's stream picks its shape (as in get_example)."""
        return self._rng(i).randint(len(self.shapes))

    def trajectory(self, rng):
        """Top-left corners (frames, 2) of one object bouncing off the walls."""
        room = self.size - self.object_size
        position = rng.uniform(0, room, 2)
        angle = rng.uniform(0, 2 * numpy.pi)
        velocity = rng.uniform(*self.speed) * numpy.array([numpy.sin(angle), numpy.cos(angle)])
        corners = numpy.empty((self.frames, 2))
        for t in range(self.frames):
            corners[t] = position
            position = position + velocity
            for axis in range(2):  # reflect at the walls
                if position[axis] < 0 or position[axis] > room:
                    velocity[axis] = -velocity[axis]
                    position[axis] = numpy.clip(-position[axis] if position[axis] < 0
                                                else 2 * room - position[axis], 0, room)
        return numpy.rint(corners).astype(int)

    def get_example(self, i):
        rng = self._rng(i)
        mask = self.masks[rng.randint(len(self.shapes))]
        video = numpy.zeros((self.channels, self.frames, self.size, self.size), numpy.float32)
        s = self.object_size
        for _ in range(rng.randint(self.n_objects[0], self.n_objects[1] + 1)):
            colour = rng.uniform(0.5, 1.0, (self.channels, 1, 1)) if self.channels > 1 \
                else numpy.ones((1, 1, 1))
            for t, (y, x) in enumerate(self.trajectory(rng)):
                patch = video[:, t, y:y + s, x:x + s]
                numpy.maximum(patch, mask * colour, out=patch)
        return video * 2 - 1
