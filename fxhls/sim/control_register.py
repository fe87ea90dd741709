"""The AXI4-Lite control register of a Vitis HLS export (`s_axi_control`, the handshake of
`#pragma HLS INTERFACE s_axilite port=return`) as the C++ stream bench drove it
(templates/sim/stream_bench.cpp.j2), and the checks that it behaved as Vitis's register map
says (UG1399, "S_AXILITE Control Register Map"): idle after reset; ap_start kept by
auto_restart, as the deploy driver starts the block; without it one call per start, each
ending in ap_done, which a read clears.
"""

from __future__ import annotations

from dataclasses import dataclass

from fxhls.deploy.transports import AP_CTRL, AP_DONE, AP_IDLE, AP_START, AP_START_AUTO_RESTART, AUTO_RESTART


@dataclass(frozen=True)
class RegisterAccess:
    """One access of the bench, offered at the clock `began` and answered at `ended`: a
    write of `value` or a read that returned `value`, at `offset`."""

    began: int
    ended: int
    write: bool
    offset: int
    value: int


def check_control(accesses: list[RegisterAccess], calls: int) -> int:
    """Check the accesses of a bench run that made `calls` calls (0: started once with
    auto-restart, as the deploy driver does); returns how many reads of AP_CTRL showed
    ap_done (the calls done). A RuntimeError says what the register did wrong."""
    reads = [access.value for access in accesses if not access.write and access.offset == AP_CTRL]
    writes = [access.value for access in accesses if access.write and access.offset == AP_CTRL]
    if not reads:
        raise RuntimeError("the bench read no AXI-Lite control register")
    _expect(reads[0], AP_IDLE, AP_START | AP_DONE, "after reset")
    done = sum(1 for value in reads if value & AP_DONE)
    if calls == 0:
        if writes != [AP_START_AUTO_RESTART] or len(reads) != 3:
            raise RuntimeError(f"the bench wrote AP_CTRL {_hex(writes)} and read it {len(reads)} times; "
                               f"expected one write of {AP_START_AUTO_RESTART:#x} and three reads")
        _expect(reads[1], AP_START | AUTO_RESTART, 0, f"after the write of {AP_START_AUTO_RESTART:#x}")
        _expect(reads[2], AP_START | AUTO_RESTART, 0, "after the last output (auto-restart keeps ap_start)")
        return done
    if writes != [AP_START] * calls:
        raise RuntimeError(f"the bench wrote AP_CTRL {_hex(writes)}, expected {calls} writes of ap_start")
    if done != calls:
        raise RuntimeError(f"{calls} calls, but {done} reads of AP_CTRL showed ap_done")
    _expect(reads[-1], AP_IDLE, AP_START | AP_DONE | AUTO_RESTART,
            "after the last call's ap_done was read (ap_done is clear on read)")
    return done


def _expect(value: int, set_bits: int, clear_bits: int, when: str) -> None:
    if value & set_bits != set_bits or value & clear_bits:
        raise RuntimeError(f"the AXI-Lite control register AP_CTRL reads {value:#x} {when}: expected bits "
                           f"{set_bits:#x} set{f' and {clear_bits:#x} clear' if clear_bits else ''}")


def _hex(values: list[int]) -> str:
    return "[" + ", ".join(f"{value:#x}" for value in values) + "]"
