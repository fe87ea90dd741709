"""fxhls's Python API: the steps of the `fxhls` command as functions, for notebooks and
scripts. Each imports what it needs when called, so `import fxhls` stays light (no
torch, no onnx); see the README's "Python API" section for the flow end to end."""

from __future__ import annotations

from pathlib import Path


def build(model, board: str, out=None, *, clock_mhz: float | None = None, reuse: int | dict | None = None,
          simd_pe: dict | None = None, dsp_budget: int | None = None, target_fps: float | None = None,
          test_inputs=None, test_labels=None, force: bool = False, backend: str | None = None, input_type=None,
          default_type=None, config=None) -> Path:
    """`fxhls build`: write the HLS project, RTL, test vectors, report and deploy package
    of `model` (an .onnx file: fxhls or QONNX) for `board` (a name such as "ultra96v2", or
    a board .yaml) into `out` (default hls_projects/<model name>/); returns that folder.
    `reuse` is one reuse factor for every Conv/Gemm layer, or {layer name: factor} (at most
    that many clocks per input vector), `simd_pe` {layer name: (SIMD, PE)}, a layer's fold;
    both backends take them. By default fxhls chooses the folds to fit `dsp_budget`
    (default: the board's DSP slices), or the least parallel design that reaches
    `target_fps` samples per second (both backends).
    `test_inputs` (batch first) become the test vectors (default: 8 random samples), and
    `test_labels` (their class indices) let the deploy notebook show accuracy. `backend`
    ("hls", "rtl", default: rtl where it covers the model) is the IP the deploy package
    puts on the board (`fxhls.deploy.backend`). A float model needs types: `input_type`,
    `default_type` (`ap_fixed` spellings) and `config` (a YAML path, `fxhls.model_config`),
    as `fxhls.onnx.load_onnx` takes them; the build saves them as config.yaml."""
    from fxhls.hls.build import build_project
    from fxhls.hls.parallelism import ParallelismOptions
    from fxhls.model_config import model_config

    factors = {"*": reuse} if isinstance(reuse, int) else dict(reuse or {})
    folds = dict(simd_pe or {})
    set_by = {key: "build(reuse=)" for key in factors} | {key: "build(simd_pe=)" for key in folds}
    options = ParallelismOptions(factors, dsp_budget, target_fps, folds, set_by)
    folder, _ = build_project(model, board, out, clock_mhz, options, force, test_inputs, test_labels, backend,
                              model_config(config, input_type, default_type))
    return folder


def emulate(model, x, *, input_type=None, default_type=None, config=None):
    """`fxhls emulate`: the exact outputs (float64, batch first) of `model` (an .onnx file,
    or an fxhls IR `Graph`) for the inputs `x` (batch first), bit for bit the hardware's;
    a float model with its types, as `build` takes them."""
    from fxhls.emulation import emulate as emulate_model

    return emulate_model(model, x, input_type, default_type, config)


def profile(model, x, *, input_type=None, default_type=None, config=None, out=None, percentile: float = 99.9):
    """`fxhls profile`: how the values of `model` (an .onnx path) on the inputs `x` (batch
    first: an array or a .npy path) fit its fixed-point types. A `Profile` with one row per
    cast (the input, each layer's weights, biases and output: layer, kind, type, float
    min/max/percentile of |x|, type min/max/lsb, the saturated and underflow fractions, the
    error against float, the integer bits the percentile needs) and, for a float model
    (typed as `build` takes it), `output`: its top-class agreement and error against float
    (onnx's reference evaluator). With `out`, writes profile.md, profile.csv and profile.svg there."""
    from fxhls.profiling import profile_model

    return profile_model(model, x, input_type, default_type, config, out, percentile)


def csim(build_dir, x):
    """`fxhls csim`: the outputs of the build's HLS C++ compiled with g++ (C simulation)
    for the inputs `x` (batch first); equal to `emulate(model, x)`."""
    from fxhls.sim.csim import run_csim

    return run_csim(build_dir, x)


def cosim(build_dir, x=None, model=None, *, pause: float = 0.3, seed: int = 0, rtl: str | None = None) -> tuple:
    """`fxhls cosim`: the outputs of the build's RTL (Verilator, random back-pressure of
    probability `pause`) for the inputs `x` (default: the testbench's), and a summary
    dict: "latency_cycles", "interval_cycles", "fps", "clock_mhz", "mismatches", the
    count of values that differ from `model`'s emulation (None without `model` and `x`),
    and "measured", the design simulated: `rtl` "hls" (the Vitis HLS export), "fxhls"
    (DIR/rtl) or None (the deployed design; `fxhls.rtl.sources.cosim_sources`)."""
    from fxhls.sim.rtl_cosim import cosim_design

    return cosim_design(build_dir, x, model, pause, seed, rtl=rtl)


def report(build_dir):
    """`fxhls report`: the build's RTL synthesized with yosys; a `DesignReport` with the
    LUT/FF/DSP/BRAM rows next to the board's and the co-simulated timing."""
    from fxhls.rtl.report import report_design

    return report_design(build_dir)


def synthesize(build_dir) -> dict:
    """`fxhls build --synth` on an existing build: Vitis HLS C simulation and synthesis
    (vitis_hls on PATH, else a RuntimeError saying what to run where); returns the
    synthesis report: clock, latency, interval and resources."""
    from fxhls.deploy.interface import read_design
    from fxhls.hls.synth import synthesize as run_vitis_hls

    return run_vitis_hls(build_dir, read_design(Path(build_dir) / "design.json")["top"])


def package(build_dir) -> Path:
    """`fxhls package`: DIR/<top>.tar.gz, the deploy package (with the bitstream once
    Vivado has made it) to copy to the board; returns its path."""
    from fxhls.deploy import make_package

    archive, _ = make_package(build_dir)
    return archive
