"""What the `fxhls` commands share: how each presents itself (one line in `fxhls --help`,
a description and an example in its own `--help`, the --quiet/--verbose options), and
the options that type a float model, and how csim and cosim report their comparison with
the emulator."""

from __future__ import annotations

import argparse
import textwrap

from fxhls import progress


def add_command(commands, name: str, summary: str, description: str, example: str) -> argparse.ArgumentParser:
    """Add the subcommand `name` to `commands` (argparse subparsers): `summary` is its line
    in `fxhls --help`; `description` (a paragraph) and `example` (command lines, one per
    line, `#` comments allowed) make its own --help."""
    return commands.add_parser(
        name,
        help=summary,
        description=textwrap.fill(" ".join(description.split()), 88),
        epilog="example:\n" + textwrap.indent(textwrap.dedent(example).strip(), "  "),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[_verbosity_options()],
    )


def _verbosity_options() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(add_help=False)
    group = parser.add_mutually_exclusive_group()
    group.add_argument("-q", "--quiet", dest="verbosity", action="store_const", const=progress.QUIET,
                       default=progress.NORMAL, help="print results and errors only, no progress")
    group.add_argument("-v", "--verbose", dest="verbosity", action="store_const", const=progress.VERBOSE,
                       help="also show the commands fxhls runs (compilers, simulators, yosys)")
    return parser


def print_comparison(y, mismatches: int | None) -> int:
    """Print how the outputs `y` compare with the emulator (`mismatches` values differ;
    None: nothing to compare with); returns the exit status, 1 if any value differs."""
    if mismatches is None:
        print("not compared: give --model MODEL.onnx to check the outputs against the emulator")
        return 0
    print(f"{mismatches} of {y.size} output values differ from the emulator")
    return 1 if mismatches else 0


def add_type_options(parser: argparse.ArgumentParser, whose: str = "") -> None:
    """--input-type, --default-type and --config: the types of a float model (`fxhls.model_config`)."""
    parser.add_argument("--input-type", metavar="T", help=f"the type {whose}of a float model's input that no quantizer "
                                                           f"types, e.g. ap_fixed<16,6> (default: --default-type)")
    parser.add_argument("--default-type", metavar="T", help=f"the type of every weight, bias and layer output {whose}"
                                                             f"the model leaves untyped (accumulators stay exact)")
    parser.add_argument("--config", metavar="FILE", help="types per layer (YAML: input_type, default_type, reuse, "
                                                          "layers: NODE-OR-PATTERN: weight, bias, output, accumulator, "
                                                          "reuse; a Softmax's exp, sum, reciprocal); a build saves its "
                                                          "own as DIR/config.yaml")


def model_for_comparison(args):
    """The `--model` of csim or cosim, loaded with its types (None without --model)."""
    from fxhls.emulation import load_model

    if args.model is None:
        if args.input_type or args.default_type or args.config:
            raise ValueError("--input-type, --default-type and --config type the --model; give --model MODEL.onnx")
        return None
    return load_model(args.model, args.input_type, args.default_type, args.config)
