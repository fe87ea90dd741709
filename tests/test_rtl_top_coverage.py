"""The RTL backend covers what the HLS backend covers: every model of the test zoos (QFX,
Brevitas, the branch models of tests/qfx_branch_models.py, and the Conv1D, grouped
convolution and Concat models of tests/layer_models.py) gets Verilog from `write_rtl`
(no simulation here; tests/test_rtl_top_zoo.py, test_rtl_top_branches.py and
test_layers_conv1d_groups_concat.py co-simulate them). The Brevitas `reshape_transpose` model is refused by the hardware
contract itself, for both backends."""

from __future__ import annotations

import pytest
import torch
from brevitas_models import NAMES, exported
from layer_models import exported_layer_models
from qfx_branch_models import branch_zoo
from qfx_models import qfx_zoo

from fxhls.deploy.interface import stream_interface
from fxhls.ir.passes import check_hardware_graph, lower_for_hardware
from fxhls.onnx import export_onnx, load_onnx
from fxhls.rtl.writer import write_rtl

REFUSED_BY_BOTH = {"brevitas_reshape_transpose"}


def _qfx_models(folder):
    for zoo, prefix in ((qfx_zoo(), "qfx"), (branch_zoo(), "branch")):
        for name, model, shape in zoo:
            path = folder / f"{prefix}_{name}.onnx"
            export_onnx(model.eval(), torch.randn(2, *shape), path)
            yield f"{prefix}_{name}", path, {}


def test_every_zoo_model_gets_verilog(tmp_path):
    models = [*_qfx_models(tmp_path), *((f"brevitas_{name}", exported(name, tmp_path)[0], {}) for name in NAMES),
              *((f"layers_{name}", path, options) for name, path, options, _, _ in exported_layer_models(tmp_path))]
    refused = {}
    for name, path, options in models:
        graph = lower_for_hardware(load_onnx(path, **options))
        try:
            check_hardware_graph(graph)
        except ValueError:
            assert name in REFUSED_BY_BOTH, name
            continue
        try:
            write_rtl(graph, stream_interface(graph, name, "ultra96v2", 250), tmp_path / name)
        except ValueError as refusal:
            refused[name] = str(refusal)
    assert refused == {}
    assert len(models) == 28


@pytest.mark.parametrize("name", sorted(REFUSED_BY_BOTH))
def test_the_models_refused_by_both_backends_are_refused_by_the_hardware_contract(name, tmp_path):
    graph = lower_for_hardware(load_onnx(exported(name.removeprefix("brevitas_"), tmp_path)[0]))
    with pytest.raises(ValueError, match="moves values in stream order"):
        check_hardware_graph(graph)
