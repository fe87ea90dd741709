"""fxhls: bit-exact fixed-point neural networks, from PyTorch training to FPGA HLS."""

__version__ = "0.1.0"
