"""fxhls: bit-exact fixed-point neural networks, from PyTorch training to FPGA HLS.

The flow as functions (`fxhls.api`): `build`, `emulate`, `profile`, `csim`, `cosim`, `report`,
`synthesize`, `package`; each loads what it needs when called.
"""

__version__ = "0.1.0"

from fxhls.api import build, cosim, csim, emulate, package, profile, report, synthesize

__all__ = ["build", "cosim", "csim", "emulate", "package", "profile", "report", "synthesize"]
