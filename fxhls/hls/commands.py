"""The `fxhls build` and `fxhls csim` commands (added to the parser in fxhls/cli.py)."""

from __future__ import annotations

from fxhls.cli_common import add_command, add_type_options, model_for_comparison, print_comparison


def add_build_command(commands) -> None:
    """Add `build` to the `fxhls` subcommands."""
    build = add_command(
        commands, "build", "write the HLS project, RTL, test vectors and deploy package",
        "Load a model (fxhls ONNX or QONNX), choose its parallelism for the board, and write DIR: the Vitis "
        "HLS C++ project with its testbench vectors, the Verilog RTL, the deploy package and a report of "
        "each layer's types and resources. With --synth, then run Vitis HLS (vitis_hls on PATH).",
        """\
        fxhls build model.onnx --board ultra96v2 --out DIR
        fxhls build model.onnx --board ultra96v2 --reuse 4 --test-inputs x.npy --test-labels y.npy --synth
        fxhls build float_model.onnx --board ultra96v2 --default-type 'ap_fixed<16,6>'   # saves DIR/config.yaml""")
    build.add_argument("model", help="the model (.onnx: from fxhls.qfx.export_onnx, QONNX from Brevitas, or a float "
                                       "model with --default-type or --config)")
    build.add_argument("--board", required=True, help="the board (a name from boards/, e.g. ultra96v2, or a board .yaml)")
    build.add_argument("--out", help="the build directory (default hls_projects/<model name>/)")
    build.add_argument("--clock-mhz", type=float, help="the clock in MHz (default: the board's)")
    build.add_argument("--reuse", action="append", default=[], metavar="[LAYER=]N",
                       help="reuse factor of a Conv/Gemm layer (ONNX node name), or of all with N alone: at most N "
                            "clocks per input vector, in both backends; repeatable; default: chosen to fit the "
                            "board's DSP slices")
    build.add_argument("--simd-pe", action="append", default=[], metavar="LAYER=SIMDxPE",
                       help="the fold of a Conv/Gemm layer in both backends: SIMD inputs x PE outputs a clock "
                            "(e.g. conv1=9x8); repeatable")
    build.add_argument("--dsp-budget", type=int, help="DSP slices the automatic reuse may use (default: the board's)")
    build.add_argument("--target-fps", type=float, help="samples per second to reach at the clock: both backends fold "
                                                        "to the least parallel design that does (default: the fastest "
                                                        "the board's DSP slices allow)")
    build.add_argument("--test-inputs", help="inputs for the test vectors (.npy, batch first; default: 8 random)")
    build.add_argument("--test-labels", help="their class labels (.npy of integers): the deploy notebook shows accuracy")
    build.add_argument("--backend", choices=("hls", "rtl"),
                       help="the IP the deploy package puts on the board: hls (the C++ through Vitis HLS) or rtl "
                            "(fxhls's Verilog, packaged by Vivado alone); default: rtl where it covers the model")
    add_type_options(build)
    build.add_argument("--force", action="store_true", help="replace DIR even if fxhls build did not write it")
    build.add_argument("--synth", action="store_true",
                       help="then run Vitis HLS C simulation and synthesis (vitis_hls on PATH) and show its report")
    build.set_defaults(run=_build)


def add_csim_command(commands) -> None:
    """Add `csim` to the `fxhls` subcommands."""
    csim = add_command(
        commands, "csim", "C-simulate DIR's HLS C++ (g++), compared with the emulator",
        "Compile the build's HLS C++ and testbench with g++ against the ap_fixed headers and stream the "
        "inputs through it. With --model, compare the outputs value by value with the model's emulation "
        "(exit 1 if any differ).",
        "fxhls csim DIR --input x.npy --model model.onnx --output y_csim.npy")
    csim.add_argument("dir", help="the build directory (as written by fxhls build)")
    csim.add_argument("--input", required=True, help="inputs, batch first (.npy)")
    csim.add_argument("--output", help="where to write the outputs as float values (.npy)")
    csim.add_argument("--model", help="the model (.onnx) whose emulation the outputs must equal")
    add_type_options(csim, "of --model ")
    csim.set_defaults(run=_csim)


def parse_knobs(reuse: list[str], simd_pe: list[str]) -> dict:
    """`--reuse` ("N" or "LAYER=N") and `--simd-pe` ("LAYER=SIMDxPE") values as
    ParallelismOptions' reuse, simd_pe and set_by (the option as given)."""
    knobs = {"reuse": {}, "simd_pe": {}, "set_by": {}}
    for item in reuse:
        layer, _, value = item.rpartition("=")
        try:
            knobs["reuse"][layer or "*"] = int(value)
        except ValueError:
            raise ValueError(f"--reuse takes N or LAYER=N with N a positive integer, got {item!r}") from None
        knobs["set_by"][layer or "*"] = f"--reuse {item}"
    for item in simd_pe:
        layer, _, value = item.rpartition("=")
        simd, _, pe = value.lower().partition("x")
        if not layer or not simd.isdigit() or not pe.isdigit() or min(int(simd), int(pe)) < 1:
            raise ValueError(f"--simd-pe takes LAYER=SIMDxPE with SIMD and PE positive integers, got {item!r}")
        knobs["simd_pe"][layer] = (int(simd), int(pe))
        knobs["set_by"][layer] = f"--simd-pe {item}"
    return knobs


def _build(args) -> int:
    from fxhls.deploy.backend import choose_backend
    from fxhls.npy_files import load_npy
    from fxhls.rtl.sources import rtl_refusal
    from fxhls.rtl.stage_rows import read_stage_rows, rtl_summary

    from fxhls.model_config import model_config

    from .build import build_project
    from .parallelism import ParallelismOptions
    from .report import summary_text
    from .synth import synthesize

    test_inputs = load_npy(args.test_inputs, "--test-inputs") if args.test_inputs else None
    if args.test_labels and not args.test_inputs:
        raise ValueError("--test-labels needs --test-inputs: the labels are those of the test inputs")
    test_labels = load_npy(args.test_labels, "--test-labels") if args.test_labels else None
    options = ParallelismOptions(dsp_budget=args.dsp_budget, target_fps=args.target_fps,
                                 **parse_knobs(args.reuse, args.simd_pe))
    types = model_config(args.config, args.input_type, args.default_type)
    out, project = build_project(args.model, args.board, args.out, args.clock_mhz, options, args.force, test_inputs,
                                 test_labels, args.backend, types)
    print(f"{out}: HLS project, test vectors, report and deploy package")
    print(summary_text(project.summary, project.design["clock_mhz"]))
    refusal, rows = rtl_refusal(out), []
    if refusal is not None:
        print(f"no RTL in {out / 'rtl'}: the RTL backend refused this model ({refusal}); the HLS project is complete")
    elif rows := read_stage_rows(out, project.design["top"]):
        print(rtl_summary(rows, project.design["clock_mhz"]))
    backend, why = choose_backend(args.backend, refusal)
    print(f"deploy: backend {backend}: {why}")
    for line in fold_lines(backend, project.summary["folds"], rows):
        print(f"  {line}")
    if args.synth:
        report = synthesize(out, project.design["top"])
        print(f"Vitis HLS: estimated clock {report['clock_ns']} ns, latency {'-'.join(report['latency_cycles'])} "
              f"clocks, interval {'-'.join(report['interval_cycles'])} clocks")
        for name, value in report.items():
            if isinstance(value, tuple):
                print(f"  {name}: {value[0]} of {value[1]}")
    return 0


def fold_lines(backend: str, hls_folds: list[dict], rtl_rows: list[dict]) -> list[str]:
    """A line per Conv and Gemm of the deployed backend: its fold (the RTL's SIMD and PE
    from its stage rows, the HLS reuse and SIMD x PE from its report), clocks per sample,
    and what set it (the user's knob, the target FPS, the automatic choice)."""
    if backend == "rtl":
        return [f"{row['node']}: {row['folding']}, {row['clocks']} clocks per sample (set by {row['set_by']})"
                for row in rtl_rows if "set_by" in row]
    return [f"{fold['onnx_node']}: reuse {fold['reuse']}" + (f", SIMD x PE {fold['simd_pe']}" if fold["simd_pe"] else "")
            + f", {fold['cycles']} clocks per sample (set by {fold['set_by']})" for fold in hls_folds]


def _csim(args) -> int:
    from fxhls.emulation import count_differences, emulate
    from fxhls.npy_files import load_npy, save_npy
    from fxhls.sim.csim import run_csim

    model = model_for_comparison(args)
    if args.output is None and args.model is None:
        raise ValueError("give --output Y.npy to keep the outputs, --model MODEL.onnx to compare them with the "
                         "emulator, or both")
    x = load_npy(args.input)
    y = run_csim(args.dir, x)
    if args.output:
        save_npy(args.output, y)
        print(f"{args.output}: {y.shape[0]} outputs of shape {tuple(y.shape[1:])}")
    return print_comparison(y, None if args.model is None else count_differences(y, emulate(model, x)))
