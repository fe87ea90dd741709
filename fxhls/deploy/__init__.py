"""The deploy backend: the stream format, the design's interface, and the PYNQ package for the board."""

from .interface import stream_interface


def __getattr__(name):
    # The writer loads the templates; the rest of fxhls.deploy does not need them.
    if name in ("write_deploy", "design_hash"):
        from . import writer

        return getattr(writer, name)
    if name == "make_package":
        from .package import make_package

        return make_package
    if name == "build_bitstream":
        from .vivado import build_bitstream

        return build_bitstream
    raise AttributeError(f"module 'fxhls.deploy' has no attribute {name!r}")


__all__ = ["stream_interface", "write_deploy", "design_hash", "make_package", "build_bitstream"]
