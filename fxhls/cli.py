"""The `fxhls` command."""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections import defaultdict

import fxhls
from fxhls.hls.commands import add_commands as add_hls_commands


def main(argv: list[str] | None = None) -> int:
    """Run the `fxhls` command line; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fxhls",
        description="Bit-exact fixed-point neural networks, from PyTorch to FPGA HLS.",
    )
    parser.add_argument("--version", action="version", version=f"fxhls {fxhls.__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    tools = commands.add_parser("tools", help="show the tools fxhls found (headers, compiler) and how to get missing ones")
    tools.set_defaults(run=_tools)

    selfcheck = commands.add_parser(
        "selfcheck",
        help="check fxhls's fixed-point emulation bit for bit against the ap_fixed headers in use",
    )
    selfcheck.add_argument("--values", type=int, default=200, help="probe values per type (default 200)")
    selfcheck.add_argument("--seed", type=int, default=0, help="seed of the random probe values")
    selfcheck.set_defaults(run=_selfcheck)

    emulate = commands.add_parser("emulate", help="run an fxhls or QONNX model bit-exactly on inputs from a .npy file")
    emulate.add_argument("model", help="the model (.onnx: from fxhls.qfx.export_onnx, or QONNX from Brevitas)")
    emulate.add_argument("--input", required=True, help="inputs, batch first (.npy)")
    emulate.add_argument("--output", required=True, help="where to write the outputs as float values (.npy)")
    emulate.set_defaults(run=_emulate)

    add_hls_commands(commands)  # build, csim

    package = commands.add_parser("package", help="make one archive of DIR/deploy (and its bitstream) to copy to the board")
    package.add_argument("dir", help="the build directory (as written by fxhls build)")
    package.set_defaults(run=_package)

    report = commands.add_parser("report", help="synthesize DIR/rtl with yosys: LUT, FF, DSP, BRAM next to the board's, and the co-simulated timing")
    report.add_argument("dir", help="the build directory (as written by fxhls build)")
    report.set_defaults(run=_report)

    cosim = commands.add_parser("cosim", help="co-simulate DIR/rtl (Verilator + cocotb, random back-pressure): "
                                              "outputs against the emulator, latency and throughput")
    cosim.add_argument("dir", help="the build directory (as written by fxhls build)")
    cosim.add_argument("--input", help="inputs, batch first (.npy); default: the testbench's DIR/tb/input_words.txt")
    cosim.add_argument("--output", help="where to write the outputs as float values (.npy)")
    cosim.add_argument("--model", help="the model (.onnx) whose emulation the outputs of --input must equal")
    cosim.add_argument("--pause", type=float, default=0.3, help="back-pressure: probability of a stalled cycle (default 0.3)")
    cosim.add_argument("--seed", type=int, default=0, help="seed of the back-pressure")
    cosim.set_defaults(run=_cosim)
    return parser


def _cosim(args) -> int:
    from fxhls.npy_files import load_npy, save_npy
    from fxhls.sim.rtl_cosim import cosim_design

    x = load_npy(args.input) if args.input else None
    y, summary = cosim_design(args.dir, x, args.model, args.pause, args.seed)
    if args.output:
        save_npy(args.output, y)
        print(f"{args.output}: {y.shape[0]} outputs of shape {tuple(y.shape[1:])}")
    print(f"{summary['samples']} samples: latency {summary['latency_cycles']} cycles, initiation interval "
          f"{summary['interval_cycles']:g} cycles, {summary['fps']:,.0f} inferences/s at {summary['clock_mhz']:g} MHz")
    if summary["mismatches"] is None:
        print("not compared: give --model MODEL.onnx to check the outputs against the emulator")
        return 0
    print(f"{summary['mismatches']} of {y.size} output values differ from the emulator")
    return 1 if summary["mismatches"] else 0


def _report(args) -> int:
    from fxhls.rtl.report import format_table, report_design, timing_text

    report = report_design(args.dir)
    print(f"{report.top} on {report.board} (yosys synth_xilinx):")
    print(format_table(report.rows, report.dsp_name))
    print(timing_text(report.timing))
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

    y = emulate(args.model, load_npy(args.input))
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
