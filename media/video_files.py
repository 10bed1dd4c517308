"""Generated videos as files to watch, chosen by the file's extension: an
animated GIF grid (Pillow), an H.264 MP4 grid (libx264 through PyAV; plays in
web browsers) or a PNG of frame strips. Each file is written atomically.
Used by generate.py, the training previews (``extensions/preview.py``) and
the evaluation's checks of generated videos."""
import fractions
import math
import os

import numpy
from PIL import Image

from runtime.errors import UsageError
from runtime.atomic import atomic_path

FORMATS = ('.gif', '.mp4', '.png')


def to_uint8(videos):
    """(N, C, T, H, W) in [-1, 1] -> uint8 (N, T, H, W, C)."""
    x = numpy.clip(numpy.rint((videos + 1) * 127.5), 0, 255).astype(numpy.uint8)
    return x.transpose(0, 2, 3, 4, 1)


def frame_strips(videos):
    """One row per video, its frames left to right: (N*H, T*W, C)."""
    n, t, h, w, c = videos.shape
    return videos.transpose(0, 2, 1, 3, 4).reshape(n * h, t * w, c)


def video_grid(videos, cols=None):
    """Videos tiled row by row in a grid of ``cols`` columns (default: near
    square), per frame: (T, rows*H, cols*W, C)."""
    n, t, h, w, c = videos.shape
    cols = cols or math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    padded = numpy.zeros((rows * cols, t, h, w, c), numpy.uint8)
    padded[:n] = videos
    grid = padded.reshape(rows, cols, t, h, w, c).transpose(2, 0, 3, 1, 4, 5)
    return grid.reshape(t, rows * h, cols * w, c)


def file_format(path):
    """The format of ``path`` by its extension, or a one-line error."""
    ext = os.path.splitext(path)[1].lower()
    if ext not in FORMATS:
        raise UsageError('--out {}: unknown video file type {!r}: name a .gif (animated '
                         'grid), .mp4 (grid video) or .png (frame strips) file'.format(
                             path, ext or '(no extension)'))
    return ext


def write_videos(videos, path, fps=8, cols=None, scale=1):
    """Write uint8 videos (N, T, H, W, C), C = 1 or 3, to ``path``: .gif and
    .mp4 tile them in a grid of ``cols`` columns (default near square, see
    ``video_grid``), .png puts one video per row, frames left to right; GIF
    and PNG pixels are enlarged ``scale`` times. Returns the (width, height)
    of the image or video frame written."""
    ext = file_format(path)
    if ext == '.png':
        image = pil_image(frame_strips(videos), scale)
        with atomic_path(path) as tmp:
            image.save(tmp, format='PNG')
        return image.size
    grid = video_grid(videos, cols)
    if ext == '.gif':
        return write_gif(grid, path, fps, scale)
    return write_mp4(grid, path, fps)


def pil_image(array, scale=1):
    """uint8 (H, W, C) -> a Pillow image: grey ('L') for C = 1, else RGB;
    enlarged ``scale`` times (nearest neighbour)."""
    image = Image.fromarray(array[..., 0] if array.shape[-1] == 1 else array)
    if scale > 1:
        image = image.resize((image.width * scale, image.height * scale), Image.NEAREST)
    return image


def write_gif(frames, path, fps, scale=1):
    """Frames (T, H, W, C) -> an animated GIF that loops forever. Pillow
    stores consecutive identical frames once, with their summed duration."""
    images = [pil_image(f, scale) for f in frames]
    with atomic_path(path) as tmp:
        images[0].save(tmp, format='GIF', save_all=True, append_images=images[1:],
                       duration=int(1000 / fps), loop=0)
    return images[0].size


# H.264 quality: constant rate factor 12 of libx264's 0 (lossless) - 51 scale,
# visually lossless on the small, sharp-edged grids of generated videos
# (docs/generate.md); same input, same bytes.
CRF = 12


def write_mp4(frames, path, fps):
    """Frames (T, H, W, C) -> an H.264 MP4 that browsers play: yuv420p (4:2:0
    chroma, so the frames are padded with black to even sizes), BT.709 colours
    tagged in the stream, and the index (moov atom) before the frames
    (faststart), so that playback starts before the whole file has arrived.
    Grey frames are stored as equal R, G and B."""
    import av  # here: training, which writes GIF and PNG previews, need not load FFmpeg
    from av.video.reformatter import ColorRange, Colorspace

    t, h, w, c = frames.shape
    frames = numpy.pad(frames, ((0, 0), (0, h % 2), (0, w % 2), (0, 0)))
    if c == 1:
        frames = numpy.repeat(frames, 3, axis=3)
    height, width = frames.shape[1:3]
    with atomic_path(path) as tmp:
        with av.open(tmp, 'w', format='mp4', options={'movflags': '+faststart'}) as container:
            rate = fractions.Fraction(fps).limit_denominator(1001)
            stream = container.add_stream('libx264', rate=rate)
            stream.width, stream.height, stream.pix_fmt = width, height, 'yuv420p'
            stream.options = {'crf': str(CRF)}
            context = stream.codec_context
            context.colorspace = context.color_primaries = context.color_trc = Colorspace.ITU709
            context.color_range = ColorRange.MPEG
            for frame in frames:
                picture = av.VideoFrame.from_ndarray(numpy.ascontiguousarray(frame), 'rgb24')
                container.mux(stream.encode(picture.reformat(
                    format='yuv420p', dst_colorspace=Colorspace.ITU709,
                    dst_color_range=ColorRange.MPEG)))
            container.mux(stream.encode())  # flush the encoder's delayed frames
    return width, height
