"""Custom Chainer functions (fast CPU convolutions)."""
