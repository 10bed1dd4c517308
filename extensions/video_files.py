"""Generated videos as files to watch (training previews, generate.py),
chosen by the file's extension: an animated GIF grid (Pillow), an MP4 grid
(OpenCV's FFmpeg, 'mp4v') or a PNG of frame strips. Each file is written
atomically."""
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


def write_mp4(frames, path, fps):
    """Frames (T, H, W, C) -> MPEG-4 part 2 ('mp4v') video. The frames are
    padded with black to even sizes (the encoder crops odd ones) and given
    as BGR; grey frames are stored as equal B, G and R."""
    import cv2  # here: training, which writes previews, need not load OpenCV
    t, h, w, c = frames.shape
    frames = numpy.pad(frames, ((0, 0), (0, h % 2), (0, w % 2), (0, 0)))
    frames = numpy.repeat(frames, 3, axis=3) if c == 1 else frames[..., ::-1]
    size = frames.shape[2], frames.shape[1]
    with atomic_path(path) as tmp:
        named = tmp + '.mp4'  # OpenCV picks the container by the file extension
        try:
            writer = cv2.VideoWriter(named, cv2.VideoWriter_fourcc(*'mp4v'), fps, size)
            if not writer.isOpened():
                raise UsageError('OpenCV cannot write an mp4v MP4 file here ({}): write a '
                                 '.gif or .png instead'.format(path))
            for frame in frames:
                writer.write(numpy.ascontiguousarray(frame))
            writer.release()
            os.replace(named, tmp)
        finally:
            if os.path.exists(named):
                os.remove(named)
    return size
