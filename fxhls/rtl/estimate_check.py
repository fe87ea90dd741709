"""The co-simulated interval against the RTL's estimate, for `fxhls report`.

The estimate (DIR/rtl/stages.json, the top's comment) is the clocks per sample of the
slowest stage alone; the stream converters move a sample's input and output words one
a clock. Within TOLERANCE the two agree; beyond it the line says where the estimate
falls short: the converters, or clocks that no stage's estimate holds (stalls between
stages, a clock between samples).
"""

from __future__ import annotations

# The relative difference up to which the co-simulated interval agrees with the estimate.
TOLERANCE = 0.05


def estimate_comparison(design: dict, stages: list[dict], timing: dict | None) -> str | None:
    """One line comparing `timing`'s co-simulated interval (DIR/report/cosim.json) with
    the slowest of `stages` (DIR/rtl/stages.json) for `design` (design.json); None
    without a co-simulation or stage rows."""
    if timing is None or not stages:
        return None
    measured = timing.get("measured", "")
    if measured.startswith("the Vitis HLS export"):
        return ("Estimate: not compared; the co-simulation measured the Vitis HLS export, whose estimate is "
                "Vitis HLS's synthesis report, not DIR/rtl/stages.json.")
    slowest = max(stages, key=lambda row: row["clocks"])
    estimate, interval = slowest["clocks"], timing["interval_cycles"]
    difference = (interval - estimate) / estimate
    head = (f"Estimate: {estimate} clocks per sample (stage {slowest['stage']}), co-simulated interval "
            f"{interval:g}: {difference:+.1%}")
    if abs(difference) <= TOLERANCE:
        return f"{head}, within {TOLERANCE:.0%}."
    if interval < estimate:
        return f"{head}: faster than stage {slowest['stage']}'s estimate, which is pessimistic."
    words_in, words_out = design["input"]["words"], design["output"]["words"]
    converters = max(words_in, words_out)
    if converters >= interval:
        why = (f"the stream converters move {words_in} input and {words_out} output words per sample, "
               f"one a clock, which no stage's estimate counts")
    else:
        bound = max(estimate, converters)
        slower = (f"the stream converters move {converters} words per sample, more than the estimate, and "
                  if converters > estimate else "")
        why = (f"{slower}{interval - bound:g} clocks per sample are in no stage's estimate nor the converters' "
               f"{converters} words: stalls between stages (FIFO depths, line buffers, forks) or a clock "
               f"between samples")
    return f"{head}, over {TOLERANCE:.0%}: {why}."
