"""fxhls: bit-exact fixed-point neural networks, from PyTorch training to FPGA HLS."""

__version__ = "0.1.0"


def __getattr__(name):
    # `fxhls.emulate` loads onnx and the IR, so it is imported on first use, not with the package.
    if name == "emulate":
        from fxhls.emulation import emulate

        return emulate
    raise AttributeError(f"module 'fxhls' has no attribute {name!r}")
