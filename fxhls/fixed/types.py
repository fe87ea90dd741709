"""`FixedType`: one Vitis HLS `ap_fixed` / `ap_ufixed` type, as a value."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

ROUNDING_MODES = (
    "AP_RND",
    "AP_RND_ZERO",
    "AP_RND_MIN_INF",
    "AP_RND_INF",
    "AP_RND_CONV",
    "AP_TRN",
    "AP_TRN_ZERO",
)
OVERFLOW_MODES = ("AP_SAT", "AP_SAT_ZERO", "AP_SAT_SYM", "AP_WRAP")

DEFAULT_ROUNDING = "AP_TRN"
DEFAULT_OVERFLOW = "AP_WRAP"

# ap_int_base.h: AP_INT_MAX_W, the widest type the headers accept by default.
MAX_WIDTH = 1024

_ACCEPTED_FORMS = (
    "ap_fixed<W,I>, ap_fixed<W,I,Q>, ap_fixed<W,I,Q,O>, ap_fixed<W,I,Q,O,0>, "
    "the same for ap_ufixed, ap_int<W> or ap_uint<W>"
)
_SPELLING = re.compile(r"^\s*(ap_u?fixed|ap_u?int)\s*<([^<>]*)>\s*$")


@dataclass(frozen=True)
class FixedType:
    """A fixed-point type with the semantics of Vitis HLS `ap_[u]fixed<W,I,Q,O>`.

    `width` bits in all, `int_bits` of them above the binary point (sign bit
    included when `signed`); `int_bits` may be negative or exceed `width`, as in C++.
    `rounding` and `overflow` are the C++ mode names, applied when a value is
    assigned to the type. Instances are immutable and hashable.
    """

    width: int
    int_bits: int
    signed: bool = True
    rounding: str = DEFAULT_ROUNDING
    overflow: str = DEFAULT_OVERFLOW

    def __post_init__(self):
        for name in ("width", "int_bits"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"FixedType {name} must be an integer, got {value!r}")
        if not 1 <= self.width <= MAX_WIDTH:
            raise ValueError(
                f"FixedType width must be between 1 and {MAX_WIDTH}, got {self.width}"
            )
        if not isinstance(self.signed, bool):
            raise ValueError(f"FixedType signed must be True or False, got {self.signed!r}")
        if self.rounding not in ROUNDING_MODES:
            raise ValueError(
                f"unknown rounding mode {self.rounding!r}; supported: {', '.join(ROUNDING_MODES)}"
            )
        if self.overflow not in OVERFLOW_MODES:
            raise ValueError(
                f"unknown overflow mode {self.overflow!r}; supported: {', '.join(OVERFLOW_MODES)}"
            )

    @classmethod
    def parse(cls, spelling: str) -> "FixedType":
        """Read a C++ spelling such as `ap_fixed<8,3,AP_RND,AP_SAT>` or `ap_uint<4>`.

        A `FixedType` passes through unchanged, so APIs can take either form.

        `ap_int<W>` and `ap_uint<W>` convert like C integers (truncation toward
        zero, wrap-around), so they read as `ap_[u]fixed<W,W,AP_TRN_ZERO,AP_WRAP>`.
        """
        if isinstance(spelling, FixedType):
            return spelling
        match = _SPELLING.match(spelling) if isinstance(spelling, str) else None
        if match is None:
            raise ValueError(f"cannot parse fixed-point type {spelling!r}; expected {_ACCEPTED_FORMS}")
        kind, args = match.group(1), [a.strip() for a in match.group(2).split(",")]
        signed = not kind.startswith("ap_u")
        try:
            if kind.endswith("int"):
                if len(args) != 1:
                    raise ValueError("ap_int takes one parameter")
                width = _parse_int(args[0])
                return cls(width, width, signed, "AP_TRN_ZERO", "AP_WRAP")
            if not 2 <= len(args) <= 5:
                raise ValueError("ap_fixed takes 2 to 5 parameters")
            if len(args) == 5 and _parse_int(args[4]) != 0:
                raise ValueError("saturation bits N other than 0 are not supported")
            rounding = args[2] if len(args) > 2 else DEFAULT_ROUNDING
            overflow = args[3] if len(args) > 3 else DEFAULT_OVERFLOW
            return cls(_parse_int(args[0]), _parse_int(args[1]), signed, rounding, overflow)
        except ValueError as err:
            raise ValueError(
                f"cannot parse fixed-point type {spelling!r}: {err}; expected {_ACCEPTED_FORMS}"
            ) from None

    @property
    def frac_bits(self) -> int:
        """Bits below the binary point: `width - int_bits` (negative when int_bits > width)."""
        return self.width - self.int_bits

    @property
    def min_code(self) -> int:
        """The smallest stored integer: the value is `code * 2**-frac_bits`."""
        return -(1 << (self.width - 1)) if self.signed else 0

    @property
    def max_code(self) -> int:
        """The largest stored integer."""
        return (1 << (self.width - 1)) - 1 if self.signed else (1 << self.width) - 1

    @property
    def lsb(self) -> float:
        """The value of one unit in the last place, `2**-frac_bits` (as a Python float)."""
        return math.ldexp(1.0, -self.frac_bits)

    @property
    def min(self) -> float:
        """The most negative value (exact as a float for width <= 53)."""
        return math.ldexp(float(self.min_code), -self.frac_bits)

    @property
    def max(self) -> float:
        """The largest value (exact as a float for width <= 53)."""
        return math.ldexp(float(self.max_code), -self.frac_bits)

    def with_modes(self, rounding: str | None = None, overflow: str | None = None) -> "FixedType":
        """The same width and binary point with other rounding and/or overflow modes."""
        return FixedType(
            self.width,
            self.int_bits,
            self.signed,
            rounding or self.rounding,
            overflow or self.overflow,
        )

    def __str__(self) -> str:
        name = "ap_fixed" if self.signed else "ap_ufixed"
        params = [str(self.width), str(self.int_bits)]
        if self.overflow != DEFAULT_OVERFLOW:
            params += [self.rounding, self.overflow]
        elif self.rounding != DEFAULT_ROUNDING:
            params.append(self.rounding)
        return f"{name}<{','.join(params)}>"


def _parse_int(text: str) -> int:
    if not re.fullmatch(r"[+-]?\d+", text):
        raise ValueError(f"{text!r} is not an integer")
    return int(text)


# -1 and +1, the values of binarized (BNN) weights and activations; the hardware keeps one bit.
BINARY_TYPE = FixedType(2, 2)
