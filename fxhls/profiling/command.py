"""`fxhls profile`: the command line of `fxhls.profile`."""

from __future__ import annotations

from pathlib import Path

from fxhls.cli_common import add_command, add_type_options


def add_profile_command(commands) -> None:
    """Add `profile` to the `fxhls` subcommands."""
    command = add_command(
        commands, "profile", "how a model's values fit its fixed-point types, layer by layer",
        "Run a model on inputs from a .npy file and show, for every cast (the input, each layer's weights, "
        "biases and output), the float values it receives against its type's range: min, max and a "
        "percentile of |x|, the share that saturates and that underflows to zero, the error of the emulator "
        "against float, and the integer bits that percentile needs. A float model (typed with --default-type "
        "or --config) runs in float beside its emulation (onnx's reference evaluator), and its output's top "
        "class is compared with float's; a QONNX or fxhls model shows its own types. Writes profile.md, "
        "profile.csv and profile.svg (box plots of log2 |x| over each type's range) into --out.",
        """\
        fxhls profile model.onnx --input x.npy --default-type 'ap_fixed<16,6>'
        fxhls profile model.onnx --input x.npy --config types.yaml --out DIR""")
    command.add_argument("model", help="the model (.onnx: a float model with --default-type or --config, or a QONNX "
                                       "or fxhls model, typed already)")
    command.add_argument("--input", required=True, help="inputs, batch first (.npy)")
    command.add_argument("--out", help="where to write profile.md, profile.csv and profile.svg (default: "
                                       "hls_projects/<model name>_profile)")
    command.add_argument("--percentile", type=float, default=99.9,
                         help="the percentile of |x| shown and given integer bits for (default 99.9)")
    add_type_options(command)
    command.set_defaults(run=_profile)


def _profile(args) -> int:
    from fxhls.profiling import profile_model
    from fxhls.profiling.report import table

    out = Path(args.out) if args.out else Path("hls_projects") / f"{Path(args.model).stem}_profile"
    result = profile_model(args.model, args.input, args.input_type, args.default_type, args.config, out,
                           args.percentile)
    print(table(result))
    for path in result.files:
        print(f"wrote {path}")
    return 0
