"""`fxhls package DIR`: one archive of DIR/deploy, bitstream included when built."""

from __future__ import annotations

import os
import tarfile

from deploy_designs import device_outputs, image_design, sample_inputs

from fxhls.cli import main
from fxhls.deploy import write_deploy


def members(archive) -> set[str]:
    with tarfile.open(archive, "r:gz") as tar:
        return set(tar.getnames())


def test_package_without_and_with_a_bitstream(tmp_path, capsys):
    x = sample_inputs(3)
    deploy = write_deploy(image_design(), "ultra96v2", tmp_path, x, device_outputs(x))
    (deploy / "__pycache__").mkdir()
    (deploy / "__pycache__" / "driver.cpython-311.pyc").write_bytes(b"")

    assert main(["package", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"{tmp_path / 'tiny_cnn.tar.gz'}: the deploy package\n" in out
    assert "no bitstream yet" in out
    files = {f"tiny_cnn/{path.name}" for path in deploy.iterdir() if path.is_file()}
    assert members(tmp_path / "tiny_cnn.tar.gz") == files

    for suffix in (".bit", ".hwh", ".design_hash"):
        (deploy / f"tiny_cnn{suffix}").write_text("built")
    assert main(["package", str(tmp_path)]) == 0
    assert "with its bitstream" in capsys.readouterr().out
    assert {"tiny_cnn/tiny_cnn.bit", "tiny_cnn/tiny_cnn.hwh", "tiny_cnn/tiny_cnn.design_hash"} <= members(
        tmp_path / "tiny_cnn.tar.gz"
    )


def test_package_of_a_folder_without_a_deploy_package(tmp_path, capsys):
    assert main(["package", str(tmp_path)]) == 2
    assert "deploy/design.json not found: " in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_the_archive_is_the_same_bytes_on_every_run(tmp_path, capsys):
    x = sample_inputs(3)
    deploy = write_deploy(image_design(), "ultra96v2", tmp_path, x, device_outputs(x))
    assert main(["package", str(tmp_path)]) == 0
    first = (tmp_path / "tiny_cnn.tar.gz").read_bytes()
    for path in deploy.iterdir():
        os.utime(path, (1_000_000, 1_000_000))  # another time stamp, as a later build gives
    assert main(["package", str(tmp_path)]) == 0
    assert (tmp_path / "tiny_cnn.tar.gz").read_bytes() == first
    with tarfile.open(tmp_path / "tiny_cnn.tar.gz", "r:gz") as tar:
        assert {(m.mtime, m.uid, m.uname) for m in tar.getmembers()} == {(0, 0, "")}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deploy", "tiny_cnn.tar.gz"]
