"""The .npy files of the command line: inputs read with a one-line error for anything that
is not an array of real numbers, outputs written atomically (`fxhls.staging.write_file`)."""

from __future__ import annotations

import math
import zipfile
from pathlib import Path

import numpy as np

from fxhls.staging import write_file

_REAL_KINDS = "biuf"  # bool, signed and unsigned integers, floats


def load_npy(path, option: str = "--input") -> np.ndarray:
    """The array in the .npy file `path` (named `option` on the command line), or a
    one-line ValueError: no such file, not a .npy file, cut short, or not real numbers."""
    where = f"{option} {path}"
    if not Path(path).is_file():
        raise ValueError(f"{where}: {'not a regular file' if Path(path).exists() else 'no such file'}")
    _check_size(path, where)
    try:
        # Memory-mapped: what the header claims is not allocated before it is checked.
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except EOFError:
        raise ValueError(f"{where}: empty or cut short; expected a .npy file (numpy.save)") from None
    except (ValueError, OSError, zipfile.BadZipFile) as err:  # BadZipFile: a file starting as a zip does
        reason = " ".join(str(err).split())
        raise ValueError(f"{where}: not a readable .npy file of numbers ({reason}); write it with numpy.save") from None
    if not isinstance(array, np.ndarray):
        array.close()
        raise ValueError(f"{where}: a .npz archive; give one array saved with numpy.save")
    if array.dtype.kind not in _REAL_KINDS or array.dtype.fields is not None:
        raise ValueError(f"{where}: holds {array.dtype} values; the inputs must be real numbers (bool, int or float)")
    return np.array(array)


def _check_size(path, where: str) -> None:
    """A one-line ValueError when the .npy header of `path` claims more data than the file
    holds (numpy's own header readers; other files are left to `np.load`)."""
    readers = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
    with open(path, "rb") as file:
        try:
            shape, _, dtype = readers[np.lib.format.read_magic(file)](file)
        except (KeyError, ValueError, EOFError):
            return
        claimed, held = math.prod(shape) * dtype.itemsize, Path(path).stat().st_size - file.tell()
    if claimed > held:
        raise ValueError(f"{where}: its header claims {_size(claimed)} of data for shape {shape}, the file holds "
                         f"{_size(held)}: cut short, or not written by numpy.save")


def _size(count: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if count < 1024 or unit == "TiB":
            return f"{count:,} bytes" if unit == "bytes" else f"{count:,.1f} {unit}"
        count /= 1024


def save_npy(path, array: np.ndarray) -> None:
    """Write `array` to the .npy file `path` (the name as given), complete or not at all."""
    write_file(Path(path), lambda file: np.save(file, array, allow_pickle=False))
