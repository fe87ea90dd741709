"""The stream format (the stream format: fxhls/deploy/packing.py) against words built by hand and with Python ints."""

from __future__ import annotations

import numpy as np
import pytest

from fxhls.deploy import packing


def reference_words(codes: list[int], lane: int) -> list[int]:
    """One sample's words with Python int arithmetic: lane i of a word at bits [i*L, (i+1)*L)."""
    per_word = 64 // lane
    words = []
    for start in range(0, len(codes), per_word):
        word = 0
        for i, code in enumerate(codes[start:start + per_word]):
            word |= (code % (1 << lane)) << (i * lane)
        words.append(word)
    return words


@pytest.mark.parametrize(
    "codes, lane, words",
    [
        ([1, -1, 127, -128, 5], 8, [0x0000_0005_807F_FF01]),
        ([255, 0, 1, 2, 3, 4, 5, 6, 7], 8, [0x0605_0403_0201_00FF, 0x07]),
        ([1, -2, 0x7FFF, -0x8000, 3], 16, [0x8000_7FFF_FFFE_0001, 0x0003]),
        ([-1, 2, 3], 32, [0x0000_0002_FFFF_FFFF, 0x0000_0000_0000_0003]),
        ([0xFFFF_FFFF, 0x8000_0000], 32, [0x8000_0000_FFFF_FFFF]),
    ],
)
def test_pack_matches_words_written_by_hand(codes, lane, words):
    packed = packing.pack(np.array([codes]), lane)
    assert packed.dtype == np.uint64
    assert [int(w) for w in packed[0]] == words
    assert reference_words(codes, lane) == words


@pytest.mark.parametrize("lane", [8, 16, 32])
@pytest.mark.parametrize("signed", [True, False])
@pytest.mark.parametrize("n", [1, 7, 8, 9, 64 // 8 * 3, 61])
def test_round_trip_and_python_int_reference(lane, signed, n):
    rng = np.random.default_rng(lane * 1000 + n + signed)
    low, high = (-(1 << (lane - 1)), 1 << (lane - 1)) if signed else (0, 1 << lane)
    codes = rng.integers(low, high, size=(5, n), dtype=np.int64)
    codes[0, 0], codes[1, 0] = low, high - 1  # the extremes of the lane
    words = packing.pack(codes, lane)
    assert words.shape == (5, packing.words_per_sample(n, lane))
    expected = [reference_words([int(c) for c in row], lane) for row in codes]
    assert sum(int(w) != e for row, exp in zip(words, expected) for w, e in zip(row, exp)) == 0
    back = packing.unpack(words, n, lane, signed)
    assert back.dtype == np.int64
    assert int((back != codes).sum()) == 0


def test_a_sample_starts_on_a_fresh_word_and_padding_is_zero():
    words = packing.pack(np.array([[1, 2, 3], [4, 5, 6]]), 16)
    assert [[int(w) for w in row] for row in words] == [[0x0000_0003_0002_0001], [0x0000_0006_0005_0004]]


def test_unsigned_lanes_zero_extend_and_signed_lanes_sign_extend():
    words = np.array([[0x0000_0000_0000_80FF]], dtype=np.uint64)
    assert packing.unpack(words, 2, 8, signed=False).tolist() == [[255, 128]]
    assert packing.unpack(words, 2, 8, signed=True).tolist() == [[-1, -128]]


@pytest.mark.parametrize("width, lane", [(1, 8), (8, 8), (9, 16), (16, 16), (17, 32), (32, 32)])
def test_lane_bits(width, lane):
    assert packing.lane_bits(width) == lane


@pytest.mark.parametrize("n, lane, words", [(1, 8, 1), (8, 8, 1), (9, 8, 2), (4, 16, 1), (5, 16, 2), (3, 32, 2), (0, 8, 0)])
def test_words_per_sample(n, lane, words):
    assert packing.words_per_sample(n, lane) == words


def test_stream_order_of_images_is_channels_last():
    c, h, w = np.meshgrid(np.arange(2), np.arange(2), np.arange(3), indexing="ij")
    image = (100 * c + 10 * h + w)[None]  # value 100*c + 10*h + w at [c, h, w]
    order = packing.to_stream_order(image)
    assert order.tolist() == [[0, 100, 1, 101, 2, 102, 10, 110, 11, 111, 12, 112]]
    assert np.array_equal(packing.from_stream_order(order, (2, 2, 3)), image)


def test_stream_order_of_sequences_is_that_of_one_row_images():
    c, t = np.meshgrid(np.arange(2), np.arange(3), indexing="ij")
    sequence = (100 * c + t)[None]  # value 100*c + t at [c, t]
    order = packing.to_stream_order(sequence)
    assert order.tolist() == [[0, 100, 1, 101, 2, 102]]
    assert np.array_equal(order, packing.to_stream_order(sequence[:, :, None, :]))
    assert np.array_equal(packing.from_stream_order(order, (2, 3)), sequence)
    assert packing.stream_image((2, 3)) == (2, 1, 3) and packing.stream_image((6,)) is None


def test_stream_order_of_vectors_is_unchanged():
    x = np.arange(12).reshape(2, 6)
    assert np.array_equal(packing.to_stream_order(x), x)
    assert np.array_equal(packing.from_stream_order(x, (6,)), x)


def test_codes_scale_by_the_binary_point():
    assert packing.to_codes(np.array([0.5, -1.25, 3.0]), 2).tolist() == [2, -5, 12]
    assert packing.to_codes(np.array([8.0, -16.0]), -3).tolist() == [1, -2]
    assert packing.from_codes(np.array([2, -5, 12]), 2).tolist() == [0.5, -1.25, 3.0]
    assert packing.from_codes(np.array([1, -2]), -3).tolist() == [8.0, -16.0]


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: packing.lane_bits(33), "at most 32 bits"),
        (lambda: packing.lane_bits(0), "positive integer"),
        (lambda: packing.words_per_sample(4, 12), "8, 16 or 32"),
        (lambda: packing.pack(np.array([[256]]), 8), "do not fit 8-bit lanes"),
        (lambda: packing.pack(np.array([[-129]]), 8), "do not fit 8-bit lanes"),
        (lambda: packing.pack(np.array([[0.5]]), 8), "must be integers"),
        (lambda: packing.pack(np.array([1, 2]), 8), r"\(batch, n\)"),
        (lambda: packing.to_codes(np.array([0.3]), 4), "not multiples of the lsb 2\\*\\*-4"),
        (lambda: packing.to_codes(np.array([np.nan]), 4), "finite"),
        (lambda: packing.unpack(np.zeros((1, 3), np.uint64), 9, 8, True), "take 2 words"),
        (lambda: packing.unpack(np.array([[1 << 56]], np.uint64), 7, 8, True), "padding lanes"),
        (lambda: packing.to_stream_order(np.zeros((2, 3, 4, 5, 6))), "vectors .* and images"),
        (lambda: packing.from_stream_order(np.zeros((2, 6)), (1, 2, 3, 1)), "vectors .* and images"),
        (lambda: packing.from_stream_order(np.zeros((2, 5)), (2, 3)), r"\(batch, 6\)"),
    ],
)
def test_refusals(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_packing_needs_nothing_but_numpy():
    source = open(packing.__file__).read()
    imports = [line for line in source.splitlines() if line.startswith(("import ", "from "))]
    assert imports == ["from __future__ import annotations", "import numpy as np"]


@pytest.mark.parametrize("lane", [8, 16, 32])
def test_an_empty_batch_round_trips(lane):
    words = packing.pack(np.zeros((0, 5), dtype=np.int64), lane)
    assert words.shape == (0, packing.words_per_sample(5, lane))
    assert packing.unpack(words, 5, lane, True).shape == (0, 5)
    assert packing.to_stream_order(np.zeros((0, 2, 3, 4))).shape == (0, 24)
