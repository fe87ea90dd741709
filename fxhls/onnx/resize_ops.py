"""ONNX Resize, Upsample and Pad -> IR Upsample and Pad (`fxhls.ir.ops.resize`).

Resize (opsets 10 to 19) and the older Upsample in mode nearest, by integer factors on the
height and width of an (N, C, H, W) image, whose coordinates pick input pixel
(h // sh, w // sw) for output pixel (h, w): the coordinate transformation and the
nearest mode are worked out exactly for every output index (Keras's UpSampling2D as
tf2onnx writes it, asymmetric with floor or tf_half_pixel_for_nn; PyTorch's nn.Upsample,
asymmetric with floor; half_pixel with a rounding nearest mode). Pad in constant mode with
the value 0, on a sample's axes. Refused in one line: another mode, a scale that is not an
integer or that changes the batch or channel axis, coordinates that pick other pixels, a
non-zero or reflecting pad, a negative pad (a crop).
"""

from __future__ import annotations

import math
from fractions import Fraction

from fxhls.ir import Node

from .context import ImportContext, OnnxNode

_ROUNDINGS = {
    "floor": math.floor, "ceil": math.ceil,
    "round_prefer_floor": lambda v: math.ceil(v - Fraction(1, 2)),
    "round_prefer_ceil": lambda v: math.floor(v + Fraction(1, 2)),
}
_COORDINATES = {  # output index i, scale s, input size n, output size m -> input coordinate
    "asymmetric": lambda i, s, n, m: Fraction(i) / s,
    "half_pixel": lambda i, s, n, m: (i + Fraction(1, 2)) / s - Fraction(1, 2),
    "half_pixel_symmetric": lambda i, s, n, m: (i + Fraction(1, 2)) / s - Fraction(1, 2),
    "pytorch_half_pixel": lambda i, s, n, m: (i + Fraction(1, 2)) / s - Fraction(1, 2) if m > 1 else Fraction(0),
    "tf_half_pixel_for_nn": lambda i, s, n, m: (i + Fraction(1, 2)) / s,
    "align_corners": lambda i, s, n, m: Fraction(i * (n - 1), m - 1) if m > 1 else Fraction(0),
}


def resize(ctx: ImportContext, n: OnnxNode) -> None:
    a = n.attrs
    if a.get("mode", "nearest") != "nearest":
        raise n.refuse(f"mode {a['mode']!r} is not supported; only nearest-neighbour upsampling by integer factors")
    for name, neutral in (("antialias", 0), ("axes", None), ("keep_aspect_ratio_policy", "stretch")):
        if a.get(name, neutral) != neutral:
            raise n.refuse(f"attribute {name}={a[name]!r} is not supported")
    if ctx.opsets.get("", 11) < 11:  # Resize-10 picks pixels as Upsample does
        coordinates, nearest = "asymmetric", "floor"
        scales, sizes = n.inputs[1], ""
    else:
        coordinates = a.get("coordinate_transformation_mode", "half_pixel")
        nearest = a.get("nearest_mode", "round_prefer_floor")
        scales, sizes = (n.inputs + ["", "", ""])[2:4]
    if coordinates not in _COORDINATES:
        raise n.refuse(f"coordinate_transformation_mode {coordinates!r} is not supported; supported: "
                       f"{', '.join(_COORDINATES)}")
    if nearest not in _ROUNDINGS:
        raise n.refuse(f"nearest_mode {nearest!r} is not supported; supported: {', '.join(_ROUNDINGS)}")
    _upsample(ctx, n, _factors(ctx, n, scales, sizes), coordinates, nearest)


def upsample(ctx: ImportContext, n: OnnxNode) -> None:
    """The old Upsample (opsets 7 to 9): mode nearest picks pixel floor(i / scale)."""
    if n.attrs.get("mode", "nearest") != "nearest":
        raise n.refuse(f"mode {n.attrs['mode']!r} is not supported; only nearest-neighbour upsampling")
    scales = n.attrs["scales"] if "scales" in n.attrs else None
    _upsample(ctx, n, _factors(ctx, n, n.inputs[1] if scales is None else "", "", scales), "asymmetric", "floor")


def _factors(ctx: ImportContext, n: OnnxNode, scales: str, sizes: str, given=None) -> list[int]:
    """[sh, sw] from the scales (an attribute `given`, or a constant input) or the sizes."""
    shape = ctx.tensor(n.inputs[0]).shape
    if ctx.is_static(n.inputs[0]) or len(shape) != 3:
        raise n.refuse("only the upsampling of an image (N, C, H, W) that is computed at run time is supported")
    factors = None if given is None else [Fraction(v) for v in given]
    for name, role in ((scales, "scales"), (sizes, "sizes")):
        constant = ctx.constant(name) if factors is None and name else None
        if factors is None and name and constant is None:
            raise n.refuse(f"its {role} {name!r} are computed at run time; only constants are supported")
        if constant is not None and constant.size == 4:
            values = constant.tolist()
            factors = [Fraction(v) for v in values] if role == "scales" else \
                [Fraction(1)] + [Fraction(int(out), size) for out, size in zip(values[1:], shape)]
    if factors is None or len(factors) != 4:
        raise n.refuse("needs 4 scales or sizes (N, C, H, W)")
    if factors[:2] != [1, 1] or any(f.denominator != 1 or f < 1 for f in factors[2:]):
        raise n.refuse(f"scales {[float(f) for f in factors]}: only integer factors of at least 1 on the height and "
                       f"width (the last two axes) are supported")
    return [int(f) for f in factors[2:]]


def _upsample(ctx: ImportContext, n: OnnxNode, factors: list[int], coordinates: str, nearest: str) -> None:
    _, height, width = ctx.tensor(n.inputs[0]).shape
    for size, scale in zip((height, width), factors):
        picked = [min(max(_ROUNDINGS[nearest](_COORDINATES[coordinates](i, scale, size, size * scale)), 0), size - 1)
                  for i in range(size * scale)]
        if picked != [i // scale for i in range(size * scale)]:
            raise n.refuse(f"coordinate_transformation_mode {coordinates!r} with nearest_mode {nearest!r} picks "
                           f"pixels {picked[:8]}{'...' if len(picked) > 8 else ''} at scale {scale}, not each pixel "
                           f"repeated; supported: the modes where output pixel i is input pixel i // scale (e.g. "
                           f"asymmetric with floor)")
    x = ctx.operand(n.inputs[0], n)
    if factors == [1, 1]:
        ctx.alias(n.outputs[0], x)
    else:
        ctx.add(Node("Upsample", n.name, [x], n.outputs[:1], {"scales": factors}), n)


def pad(ctx: ImportContext, n: OnnxNode) -> None:
    a = n.attrs
    if a.get("mode", "constant") != "constant":
        raise n.refuse(f"mode {a['mode']!r} is not supported; only zero padding (mode constant, value 0)")
    if ctx.opsets.get("", 11) < 11:
        pads, value = list(a["pads"]), a.get("value", 0.0)
    else:
        pads, value = _constant_list(ctx, n, 1, "pads"), (_constant_list(ctx, n, 2, "constant_value") or [0.0])[0]
    if value != 0:
        raise n.refuse(f"it pads with the value {value}; only zero padding is supported")
    shape = ctx.tensor(n.inputs[0]).shape
    if ctx.is_static(n.inputs[0]):
        raise n.refuse("padding a constant is not supported")
    rank = len(shape) + 1
    axes = _constant_list(ctx, n, 3, "axes") or list(range(rank))
    if len(pads) != 2 * len(axes) or any(p < 0 for p in pads):
        raise n.refuse(f"pads {pads}: only non-negative pads, a begin and an end per axis, are supported")
    full = [0] * (2 * rank)
    for position, axis in enumerate(int(axis) % rank for axis in axes):
        full[axis], full[rank + axis] = pads[position], pads[len(axes) + position]
    if full[0] or full[rank]:
        raise n.refuse(f"pads {pads} pad the batch axis; only a sample's axes may be padded")
    sample = [int(p) for i, p in enumerate(full) if i % rank]
    x = ctx.operand(n.inputs[0], n)
    if any(sample):
        ctx.add(Node("Pad", n.name, [x], n.outputs[:1], {"pads": sample}), n)
    else:
        ctx.alias(n.outputs[0], x)


def _constant_list(ctx: ImportContext, n: OnnxNode, position: int, what: str) -> list | None:
    """The values of the node's constant input at `position` (None when it has none)."""
    if position >= len(n.inputs) or not n.inputs[position]:
        return None
    values = ctx.constant(n.inputs[position])
    if values is None:
        raise n.refuse(f"its {what} are computed at run time; only constants are supported")
    return [v if what == "constant_value" else int(v) for v in values.flatten().tolist()]


CONVERTERS = {"Resize": resize, "Upsample": upsample, "Pad": pad}
