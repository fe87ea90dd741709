"""The `fxhls` command."""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections import defaultdict

import fxhls
from fxhls import progress
from fxhls.cache_command import add_cache_command
from fxhls.cli_common import add_command, add_type_options, model_for_comparison, print_comparison
from fxhls.hls.commands import add_build_command, add_csim_command
from fxhls.profiling.command import add_profile_command
from fxhls.rtl.sources import HLS_EXPORT_FOLDERS, RTL_CHOICES


def main(argv: list[str] | None = None) -> int:
    """Run the `fxhls` command line; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    previous = progress.verbosity()
    progress.set_verbosity(args.verbosity)
    try:
        return args.run(args)
    except (ValueError, RuntimeError, OSError) as err:
        print(f"fxhls {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"fxhls {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # a bug: every bad input has its own message, fixed where it arises
        reason = " ".join(str(err).split())
        print(f"fxhls {args.command}: internal error ({type(err).__name__}: {reason}); this is a bug in fxhls, "
              f"please report it with the command and its files", file=sys.stderr)
        return 3
    finally:
        progress.set_verbosity(previous)


FLOW = """\
the flow, on a trained model:
  fxhls tools                                          # the compilers and simulators fxhls found
  fxhls profile model.onnx --input x.npy               # per layer, the values against their types
  fxhls build model.onnx --board ultra96v2 --out DIR   # HLS C++, RTL, test vectors, deploy package
  fxhls emulate model.onnx --input x.npy --output y.npy  # the exact reference outputs
  fxhls csim DIR --input x.npy --model model.onnx      # C simulation (g++), compared with the emulator
  fxhls cosim DIR --input x.npy --model model.onnx     # RTL co-simulation (Verilator), compared too
  fxhls report DIR                                     # LUT/FF/DSP/BRAM (yosys) against the board, per stage
  fxhls package DIR                                    # one archive to copy to the board

`fxhls COMMAND --help` describes a command and gives an example."""


class _CommandListFormatter(argparse.RawDescriptionHelpFormatter):
    """argparse's help, with the summaries of `fxhls --help` starting after the longest
    command name (argparse measures the names without the indent it prints them with)."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog)
        self._action_max_length = 14


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fxhls",
        description="Bit-exact fixed-point neural networks, from PyTorch to FPGA HLS.",
        epilog=FLOW,
        formatter_class=_CommandListFormatter,
    )
    parser.add_argument("--version", action="version", version=f"fxhls {fxhls.__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands, in the order of the flow")

    tools = add_command(
        commands, "tools", "show the headers, compiler and simulators fxhls found",
        "Show which ap_fixed headers, C++ compiler, Verilator and yosys fxhls uses, and for a missing "
        "one how to get it. Exits 1 when one is missing.",
        "fxhls tools")
    tools.set_defaults(run=_tools)

    selfcheck = add_command(
        commands, "selfcheck", "check the fixed-point emulation against ap_fixed.h",
        "Compile the ap_fixed headers in use with g++ and compare fxhls's quantize with them, bit for bit, "
        "on every rounding and overflow mode and a set of representative types. Exits 1 on any mismatch.",
        "fxhls selfcheck --values 500")
    selfcheck.add_argument("--values", type=int, default=200, help="probe values per type (default 200)")
    selfcheck.add_argument("--seed", type=int, default=0, help="seed of the random probe values")
    selfcheck.set_defaults(run=_selfcheck)

    add_profile_command(commands)
    add_build_command(commands)

    emulate = add_command(
        commands, "emulate", "run a model bit-exactly on inputs (the reference)",
        "Run an fxhls or QONNX model on inputs from a .npy file with the exact fixed-point emulator: the "
        "outputs the C simulation, the RTL and the board must equal.",
        "fxhls emulate model.onnx --input x.npy --output y.npy")
    emulate.add_argument("model", help="the model (.onnx: from fxhls.qfx.export_onnx, QONNX from Brevitas, or a float "
                                       "model with --default-type or --config)")
    emulate.add_argument("--input", required=True, help="inputs, batch first (.npy)")
    emulate.add_argument("--output", required=True, help="where to write the outputs as float values (.npy)")
    add_type_options(emulate)
    emulate.set_defaults(run=_emulate)

    add_csim_command(commands)

    cosim = add_command(
        commands, "cosim", "co-simulate the build's RTL (Verilator): outputs, latency, FPS",
        "Stream a batch through the build's RTL under random back-pressure (Verilator + cocotb): the "
        "outputs, compared value by value with the emulator (exit 1 if any differ), and the latency and "
        "throughput in clock cycles. Without --input, the testbench's vectors and expected outputs. The RTL: "
        "the deployed design's (the Vitis HLS export for backend hls, once Vitis has exported it), or --rtl.",
        "fxhls cosim DIR --input x.npy --model model.onnx --output y_cosim.npy")
    cosim.add_argument("dir", help="the build directory (as written by fxhls build)")
    cosim.add_argument("--input", help="inputs, batch first (.npy); default: the testbench's DIR/tb/input_words.txt")
    cosim.add_argument("--output", help="where to write the outputs as float values (.npy)")
    cosim.add_argument("--model", help="the model (.onnx) whose emulation the outputs of --input must equal")
    add_type_options(cosim, "of --model ")
    cosim.add_argument("--pause", type=float, default=0.3, help="back-pressure: probability of a stalled cycle (default 0.3)")
    cosim.add_argument("--seed", type=int, default=0, help="seed of the back-pressure")
    cosim.add_argument("--rtl", choices=RTL_CHOICES,
                       help=f"hls: the Vitis HLS export (DIR/{' or DIR/'.join(HLS_EXPORT_FOLDERS)}); "
                            "fxhls: DIR/rtl (default: the design the deploy package puts on the board)")
    cosim.set_defaults(run=_cosim)

    report = add_command(
        commands, "report", "LUT, FF, DSP, BRAM of DIR/rtl (yosys) against the board, and per stage",
        "Synthesize the build's RTL with yosys (synth_xilinx) and show its LUT, FF, DSP and BRAM next to "
        "the board's, with the timing of the last co-simulation, then each stage's resources and LUT "
        "levels next to its types, folding and clocks; writes DIR/report/.",
        "fxhls report DIR")
    report.add_argument("dir", help="the build directory (as written by fxhls build)")
    report.set_defaults(run=_report)

    package = add_command(
        commands, "package", "one archive of DIR/deploy to copy to the board",
        "Make DIR/<top>.tar.gz from DIR/deploy (the PYNQ driver, notebook, test vectors) and the bitstream "
        "when deploy/build_bitstream.sh (Vivado) has made it.",
        "fxhls package DIR\nscp DIR/*.tar.gz xilinx@pynq:")
    package.add_argument("dir", help="the build directory (as written by fxhls build)")
    package.set_defaults(run=_package)

    add_cache_command(commands)
    return parser


def _cosim(args) -> int:
    from fxhls.npy_files import load_npy, save_npy
    from fxhls.sim.rtl_cosim import cosim_design

    x = load_npy(args.input) if args.input else None
    y, summary = cosim_design(args.dir, x, model_for_comparison(args), args.pause, args.seed, rtl=args.rtl)
    print(f"co-simulated {summary['measured']}")
    if args.output:
        save_npy(args.output, y)
        print(f"{args.output}: {y.shape[0]} outputs of shape {tuple(y.shape[1:])}")
    print(f"{summary['samples']} samples: latency {summary['latency_cycles']} cycles, initiation interval "
          f"{summary['interval_cycles']:g} cycles, {summary['fps']:,.0f} inferences/s at {summary['clock_mhz']:g} MHz")
    return print_comparison(y, summary["mismatches"])


def _report(args) -> int:
    from fxhls.rtl.report import format_table, report_design, timing_text

    report = report_design(args.dir)
    print(f"{report.top} on {report.board} (yosys synth_xilinx) of {report.measured}:")
    print(format_table(report.rows, report.dsp_name))
    print(timing_text(report.timing))
    if report.estimate:
        print(report.estimate)
    print(f"Per stage:\n{report.layer_table}")
    for path in report.files:
        print(f"wrote {path}")
    return 0


def _package(args) -> int:
    from fxhls.deploy import make_package

    archive, has_bitstream = make_package(args.dir)
    print(f"{archive}: the deploy package{' with its bitstream' if has_bitstream else ''}")
    if not has_bitstream:
        print("no bitstream yet: build it with deploy/build_bitstream.sh (Vivado); until then the package runs with FXHLS_TARGET=sim")
    return 0


def _emulate(args) -> int:
    from fxhls.emulation import emulate
    from fxhls.npy_files import load_npy, save_npy

    y = emulate(args.model, load_npy(args.input), args.input_type, args.default_type, args.config)
    save_npy(args.output, y)
    print(f"{args.output}: {y.shape[0]} outputs of shape {tuple(y.shape[1:])}")
    return 0


def _tools(args) -> int:
    from fxhls.rtl.yosys import yosys_executable, yosys_version
    from fxhls.sim.toolchain import ToolNotFoundError, ap_types_include_dir, cxx_compiler
    from fxhls.sim.verilator import verilator_bin_dir, verilator_version

    def compiler_version() -> str:
        return subprocess.run([cxx_compiler(), "--version"], capture_output=True, text=True).stdout.splitlines()[0]

    missing = 0
    for name, find, describe in (
        ("ap_fixed headers", ap_types_include_dir, lambda: ""),
        ("C++ compiler", cxx_compiler, compiler_version),
        ("Verilator", verilator_bin_dir, lambda: f"Verilator {verilator_version()}"),
        ("yosys", yosys_executable, yosys_version),
    ):
        try:
            found = find()
        except ToolNotFoundError as err:
            print(f"{name:18} missing: {err}")
            missing += 1
            continue
        print(f"{name:18} {found}  {describe()}".rstrip())
    return 1 if missing else 0


def _selfcheck(args) -> int:
    from fxhls.sim.selfcheck import run_selfcheck
    from fxhls.sim.toolchain import ap_types_include_dir

    print(f"checking fxhls.fixed.quantize against {ap_types_include_dir()}/ap_fixed.h")
    rows = run_selfcheck(args.values, args.seed)
    by_modes = defaultdict(lambda: [0, 0, 0])
    for row in rows:
        counts = by_modes[(row.type.rounding, row.type.overflow)]
        counts[0] += 1
        counts[1] += row.values
        counts[2] += row.mismatches
    print(f"{'rounding':15} {'overflow':12} {'types':>6} {'values':>8} {'mismatches':>10}")
    for (rounding, overflow), (types, values, mismatches) in sorted(by_modes.items()):
        print(f"{rounding:15} {overflow:12} {types:6d} {values:8d} {mismatches:10d}")
    total_values = sum(row.values for row in rows)
    total_mismatches = sum(row.mismatches for row in rows)
    print(f"{len(rows)} type/dtype cases, {total_values} values, {total_mismatches} mismatches")
    for row in rows:
        if row.mismatches:
            print(f"MISMATCH {row.type} in {row.dtype}: {row.mismatches} of {row.values} values")
    return 1 if total_mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
