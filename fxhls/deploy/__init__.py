"""The deploy backend: the stream format, the design's interface, and the PYNQ package for the board."""

from .interface import stream_interface

__all__ = ["stream_interface"]
