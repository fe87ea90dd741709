"""The AXI-Stream format of fxhls accelerators: fixed-point codes packed into 64-bit words.

This module needs only numpy: it is copied verbatim into the deploy package, where
the board's driver uses it next to pynq.

- A sample's values go in *stream order*: a (C, H, W) image pixel by pixel in
  row-major (h, w) order, the C channel values of a pixel together (the (H, W, C)
  flattening); a (C, L) sequence (a Conv1d's tensor) likewise, as an image of one
  row: position by position, the C channel values together; a vector in order.
- Each value travels as its code, `value * 2**frac_bits` (an integer, two's
  complement when signed), in a lane of L bits: the smallest of 8, 16, 32 that
  holds the type's width (sign-extended for signed types, zero-extended otherwise).
- 64 // L lanes per word, lane i at bits [i*L, (i+1)*L). Each sample starts on a
  fresh word and its last word is padded with zero lanes.
- A batch travels as one DMA transfer, TLAST on its last word only (the DMA ends a
  receive at TLAST); the accelerator counts words to find the samples.
"""

from __future__ import annotations

import numpy as np

WORD_BITS = 64
LANE_SIZES = (8, 16, 32)


def lane_bits(width: int) -> int:
    """The lane a value of `width` bits travels in: the smallest of 8, 16, 32 that holds it."""
    if isinstance(width, bool) or not isinstance(width, (int, np.integer)) or width < 1:
        raise ValueError(f"a stream value's width must be a positive integer, got {width!r}")
    for lane in LANE_SIZES:
        if width <= lane:
            return lane
    raise ValueError(f"stream values are at most 32 bits wide, got a {width}-bit type")


def words_per_sample(n: int, lane: int) -> int:
    """64-bit words that carry `n` values in lanes of `lane` bits (the last word padded)."""
    lanes_per_word = WORD_BITS // _checked_lane(lane)
    return -(-n // lanes_per_word)


def stream_image(shape) -> tuple[int, int, int] | None:
    """The (C, H, W) image a sample of `shape` streams as, pixel by pixel: an image
    itself, a (C, L) sequence as an image of one row (C, 1, L); None for a vector."""
    shape = tuple(int(d) for d in shape)
    if len(shape) == 3:
        return shape
    if len(shape) == 2:
        return (shape[0], 1, shape[1])
    return None


def to_stream_order(x: np.ndarray) -> np.ndarray:
    """A batch (batch first) of vectors (batch, n), sequences (batch, C, L) or images
    (batch, C, H, W) as (batch, values) in stream order: sequences and images
    channels-last, (L, C) and (H, W, C) flattened."""
    x = np.asarray(x)
    if x.ndim == 2:
        return x
    if x.ndim in (3, 4):
        return np.moveaxis(x, 1, -1).reshape(x.shape[0], int(np.prod(x.shape[1:])))
    raise ValueError(
        f"stream order is defined for batches of vectors (batch, n), sequences (batch, C, L) and images "
        f"(batch, C, H, W), got an array of shape {x.shape}"
    )


def from_stream_order(y: np.ndarray, shape) -> np.ndarray:
    """The inverse of `to_stream_order`: (batch, values) back to (batch, *shape),
    `shape` being a vector's (n,), a sequence's (C, L) or an image's (C, H, W)."""
    y = np.asarray(y)
    shape = tuple(int(d) for d in shape)
    if y.ndim != 2 or y.shape[1] != int(np.prod(shape)):
        raise ValueError(f"expected a (batch, {int(np.prod(shape))}) array for shape {shape}, got {y.shape}")
    if len(shape) == 1:
        return y
    if len(shape) in (2, 3):
        return np.moveaxis(y.reshape(y.shape[0], *shape[1:], shape[0]), -1, 1)
    raise ValueError(f"stream order is defined for vectors (n,), sequences (C, L) and images (C, H, W), "
                     f"got shape {shape}")


def to_codes(values: np.ndarray, frac_bits: int) -> np.ndarray:
    """The integer codes `values * 2**frac_bits` (int64); refuses values that are not
    exact multiples of the lsb `2**-frac_bits`, and non-finite values."""
    values = np.asarray(values, dtype=np.float64)
    if not np.isfinite(values).all():
        raise ValueError("stream values must be finite; got NaN or infinity")
    scaled = np.ldexp(values, int(frac_bits))
    if not (np.abs(scaled) < 2.0**62).all():
        raise ValueError(f"stream values too large for 64-bit codes at {frac_bits} fractional bits")
    codes = scaled.astype(np.int64)
    off_grid = codes != scaled
    if off_grid.any():
        first = values.reshape(-1)[np.flatnonzero(off_grid)[0]]
        raise ValueError(
            f"{int(off_grid.sum())} values are not multiples of the lsb 2**{-int(frac_bits)} (the first: {first!r})"
        )
    return codes


def from_codes(codes: np.ndarray, frac_bits: int) -> np.ndarray:
    """The float64 values `codes * 2**-frac_bits` (exact for codes below 2**53)."""
    return np.ldexp(np.asarray(codes, dtype=np.float64), -int(frac_bits))


def pack(codes: np.ndarray, lane: int) -> np.ndarray:
    """Codes (batch, n) in stream order as 64-bit words (batch, words_per_sample(n, lane)).

    A code must fit the lane as a signed or an unsigned integer: -2**(L-1) <= code < 2**L.
    """
    codes = _as_batch_of_integers(codes, "codes")
    lane = _checked_lane(lane)
    low, high = (int(codes.min()), int(codes.max())) if codes.size else (0, 0)
    if low < -(1 << (lane - 1)) or high >= 1 << lane:
        raise ValueError(
            f"codes from {low} to {high} do not fit {lane}-bit lanes "
            f"(-2**{lane - 1} .. 2**{lane} - 1)"
        )
    batch, n = codes.shape
    lanes_per_word = WORD_BITS // lane
    n_words = words_per_sample(n, lane)
    padded = np.zeros((batch, n_words * lanes_per_word), dtype=np.uint64)
    padded[:, :n] = codes.astype(np.uint64) & np.uint64((1 << lane) - 1)
    shifts = np.arange(lanes_per_word, dtype=np.uint64) * np.uint64(lane)
    lanes = padded.reshape(batch, n_words, lanes_per_word) << shifts
    return np.bitwise_or.reduce(lanes, axis=2)


def unpack(words: np.ndarray, n: int, lane: int, signed: bool) -> np.ndarray:
    """Words (batch, words_per_sample(n, lane)) back to the codes (batch, n) (int64),
    sign-extending each lane when `signed`; refuses padding lanes that are not zero."""
    words = _as_batch_of_integers(words, "words").astype(np.uint64)
    lane = _checked_lane(lane)
    expected = words_per_sample(n, lane)
    if words.shape[1] != expected:
        raise ValueError(f"{n} values in {lane}-bit lanes take {expected} words per sample, got {words.shape[1]}")
    lanes_per_word = WORD_BITS // lane
    shifts = np.arange(lanes_per_word, dtype=np.uint64) * np.uint64(lane)
    lanes = (words[:, :, None] >> shifts) & np.uint64((1 << lane) - 1)
    lanes = lanes.reshape(words.shape[0], expected * lanes_per_word).astype(np.int64)
    if lanes[:, n:].any():
        raise ValueError("the padding lanes after a sample's last value must be zero")
    codes = lanes[:, :n]
    if signed:
        codes = np.where(codes >= 1 << (lane - 1), codes - (1 << lane), codes)
    return codes


def _checked_lane(lane: int) -> int:
    if lane not in LANE_SIZES:
        raise ValueError(f"a lane is 8, 16 or 32 bits wide, got {lane!r}")
    return int(lane)


def _as_batch_of_integers(array, what: str) -> np.ndarray:
    array = np.asarray(array)
    if array.ndim != 2:
        raise ValueError(f"{what} must be a (batch, n) array, got shape {array.shape}")
    if not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"{what} must be integers, got dtype {array.dtype}")
    return array
