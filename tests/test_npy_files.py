"""The .npy files of the command line: one-line refusals for what is not a batch of real
numbers, outputs written whole or not at all."""

from __future__ import annotations

import io

import numpy as np
import pytest

from fxhls.npy_files import load_npy, save_npy


def _saved(array, **options) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, **options)
    return buffer.getvalue()


def _huge_header() -> bytes:
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (400000000000, 1, 28, 28), }".ljust(117) + "\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode() + bytes(64)


@pytest.mark.parametrize("data,problem", [
    (b"", "empty or cut short"),
    (_saved(np.zeros((4, 6)))[:100], "EOF: reading array header"),
    (_saved(np.zeros((4, 6)))[:-8], "claims 192 bytes of data for shape (4, 6), the file holds 184 bytes"),
    (_huge_header(), "its header claims 2,281.7 TiB of data"),  # nothing allocated
    (_saved(np.ones((2, 3), np.complex128)), "holds complex128 values; the inputs must be real numbers"),
    (_saved(np.array([[1, None]], dtype=object), allow_pickle=True), "Python objects"),
    (_saved(np.array([["a", "b"]])), "holds <U1 values"),
    (b"PK\x03\x04 a zip archive", "not a readable .npy file"),
])
def test_what_is_not_a_batch_of_numbers_is_refused_in_one_line(tmp_path, data, problem):
    (tmp_path / "x.npy").write_bytes(data)
    with pytest.raises(ValueError) as info:
        load_npy(tmp_path / "x.npy", "--input")
    assert str(info.value).startswith(f"--input {tmp_path / 'x.npy'}: ") and problem in str(info.value)
    assert "\n" not in str(info.value)


def test_a_missing_file_and_an_npz_archive(tmp_path):
    with pytest.raises(ValueError, match="no such file"):
        load_npy(tmp_path / "none.npy")
    np.savez(tmp_path / "x.npz", x=np.zeros(3))
    with pytest.raises(ValueError, match="a .npz archive; give one array saved with numpy.save"):
        load_npy(tmp_path / "x.npz")


@pytest.mark.parametrize("dtype", ["bool", "int8", "uint16", "float16", ">f8", "float64"])
def test_real_numbers_of_any_dtype_and_order_load_as_saved(tmp_path, dtype):
    array = np.asfortranarray(np.arange(12).reshape(3, 4) % 3).astype(dtype)
    np.save(tmp_path / "x.npy", array)
    loaded = load_npy(tmp_path / "x.npy")
    assert loaded.dtype == array.dtype and np.array_equal(loaded, array)


def test_save_npy_writes_the_name_given_and_nothing_else(tmp_path):
    save_npy(tmp_path / "y.out", np.arange(3.0))
    assert [p.name for p in tmp_path.iterdir()] == ["y.out"]
    assert np.array_equal(np.load(tmp_path / "y.out"), np.arange(3.0))
    with pytest.raises(ValueError, match="the folder .* does not exist"):
        save_npy(tmp_path / "missing" / "y.npy", np.arange(3.0))


def test_the_python_api_refuses_complex_inputs_too():
    from fuzz_models import tiny_mlp

    from fxhls.emulation import emulate
    from fxhls.onnx import load_onnx

    with pytest.raises(ValueError, match="inputs must be real numbers, got complex values"):
        emulate(load_onnx(tiny_mlp()), np.ones((2, 6)) + 1j)
