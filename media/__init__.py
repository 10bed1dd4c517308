"""Files people look at: generated videos as GIF, H.264 MP4 or PNG
(``media/video_files.py``). Needs no Chainer; imports nothing above
``runtime``."""
