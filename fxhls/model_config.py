"""The types and parallelism a user chooses for a model: `--input-type`, `--default-type`
and `--config FILE` (YAML, in the spirit of hls4ml's configuration).

```yaml
input_type: ap_fixed<16,6>        # the data input, where no quantizer types it
default_type: ap_fixed<16,6>      # every weight, bias and layer output the model leaves untyped
reuse: 2                          # every Conv/Gemm layer (optional)
layers:                           # by ONNX node name or a glob pattern (fnmatch); later entries win,
  "conv*":                        #   an exact name over any pattern
    weight: ap_fixed<8,2>
    reuse: 2                      # a pattern's reuse: the layers it matches that fold
  fc1:
    bias: ap_fixed<12,4>
    output: ap_fixed<16,6,AP_RND,AP_SAT>   # rounding and overflow modes are part of a type
    accumulator: ap_fixed<24,10>           # narrowed (default: exact)
    reuse: 4                      # at most 4 clocks per input vector, in both backends
  conv2:
    simd: 9                       # or the fold itself: SIMD inputs x PE outputs a clock
    pe: 4                         #   (both, and no reuse beside them)
  softmax:                        # a Softmax's internal types (defaults: fxhls.ir.ops.softmax.default_types)
    exp: ap_ufixed<12,1,AP_RND,AP_SAT>     # its exp table's entries
    sum: ap_ufixed<12,4,AP_RND,AP_SAT>     # the sum of the exps, cast before its reciprocal table
    reciprocal: ap_ufixed<12,1,AP_RND,AP_SAT>
```

A type is an `ap_fixed` spelling (`fxhls.fixed.FixedType.parse`). A malformed file or entry
is refused in one line naming the entry; an entry that names no node of the model is
refused when the model is typed (`check_layers`).
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from pathlib import Path

from fxhls.fixed import FixedType

LAYER_TYPES = ("weight", "bias", "output", "accumulator", "exp", "sum", "reciprocal")
_KNOB_KEYS = ("reuse", "simd", "pe")
_LAYER_KEYS = (*LAYER_TYPES, *_KNOB_KEYS)
_TOP_KEYS = ("input_type", "default_type", "reuse", "layers")


@dataclass
class ModelConfig:
    """`layers` maps a node name or pattern to {"weight"|"bias"|"output"|"accumulator"|"exp"|
    "sum"|"reciprocal": FixedType, "reuse" | "simd" and "pe": int}; `source` names where it
    came from, for error messages."""

    input_type: FixedType | None = None
    default_type: FixedType | None = None
    reuse: int | None = None
    layers: dict[str, dict] = field(default_factory=dict)
    source: str = "config"

    def layer(self, node_name: str) -> dict:
        """The settings of node `node_name`: default types, then every matching pattern in
        order, then its exact entry."""
        settings = {kind: self.default_type for kind in ("weight", "bias", "output") if self.default_type}
        for pattern, entry in self.layers.items():
            if pattern != node_name and fnmatch.fnmatchcase(node_name, pattern):
                settings.update(entry)
        settings.update(self.layers.get(node_name, {}))
        return settings

    def gives_types(self) -> bool:
        """Whether this config types anything (rather than only choosing reuse factors)."""
        return bool(self.input_type or self.default_type or
                    any(key in LAYER_TYPES for entry in self.layers.values() for key in entry))

    def check_layers(self, node_names) -> None:
        """A one-line ValueError for a `layers` entry that names no node in `node_names`."""
        names = list(node_names)
        for pattern in self.layers:
            if not fnmatch.filter(names, pattern) and pattern not in names:
                shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
                raise ValueError(f"{self.source}: layers entry {pattern!r} names no node of the model "
                                 f"(its nodes: {shown})")

    def knobs(self, layer_names) -> tuple[dict, dict, dict]:
        """ParallelismOptions' (reuse, simd_pe, set_by) from this config: "*" (the top-level
        reuse); for each layer of `layer_names` (those that fold), the knob of the last entry
        matching it that sets one (its patterns in order, then its exact name); every exact
        name's (the build refuses one that does not fold); set_by names the file and entry."""
        reuse, simd_pe, set_by = {}, {}, {}
        if self.reuse:
            reuse["*"], set_by["*"] = self.reuse, f"{self.source}: reuse"
        exact = [name for name in self.layers if not any(char in name for char in "*?[")]
        for name in [*layer_names, *(name for name in exact if name not in layer_names)]:
            entries = [pattern for pattern in self.layers if pattern != name and fnmatch.fnmatchcase(name, pattern)]
            knobbed = [entry for entry in [*entries, *([name] if name in self.layers else [])]
                       if any(key in self.layers[entry] for key in _KNOB_KEYS)]
            if knobbed:
                entry = self.layers[knobbed[-1]]
                if "reuse" in entry:
                    reuse[name] = entry["reuse"]
                else:
                    simd_pe[name] = (entry["simd"], entry["pe"])
                set_by[name] = f"{self.source}: layers entry {knobbed[-1]!r}"
        return reuse, simd_pe, set_by

    def to_yaml(self) -> str:
        """The YAML text `read_config` reads back into this configuration."""
        import yaml

        data = {key: str(value) for key, value in (("input_type", self.input_type),
                                                   ("default_type", self.default_type)) if value}
        if self.reuse:
            data["reuse"] = self.reuse
        if self.layers:
            data["layers"] = {name: {key: value if key in _KNOB_KEYS else str(value) for key, value in entry.items()}
                              for name, entry in self.layers.items()}
        return "# the types and parallelism of this build: repeat it with --config this file\n" + \
            yaml.safe_dump(data, sort_keys=False)


def model_config(config=None, input_type=None, default_type=None) -> ModelConfig | None:
    """The configuration from a `config` (a YAML path or a ModelConfig) with the options
    given beside it taking precedence; None when nothing is given."""
    if config is None and input_type is None and default_type is None:
        return None
    result = ModelConfig() if config is None else config if isinstance(config, ModelConfig) else read_config(config)
    result = ModelConfig(result.input_type, result.default_type, result.reuse, dict(result.layers), result.source)
    for key, value, option in (("input_type", input_type, "--input-type"), ("default_type", default_type,
                                                                             "--default-type")):
        if value is not None:
            setattr(result, key, _type(value, option))
    return result


def read_config(path) -> ModelConfig:
    """The configuration in the YAML file `path`; a one-line ValueError naming the entry
    that is wrong."""
    import yaml

    source = str(path)
    if not Path(path).is_file():
        raise ValueError(f"{source}: no such config file")
    try:
        data = yaml.safe_load(Path(path).read_text())
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        raise ValueError(f"{source}: not a YAML file ({' '.join(str(err).split())})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{source}: a config is a mapping with keys {', '.join(_TOP_KEYS)}")
    _known_keys(data, _TOP_KEYS, source)
    layers = data.get("layers") or {}
    if not isinstance(layers, dict):
        raise ValueError(f"{source}: 'layers' maps node names or patterns to their settings")
    config = ModelConfig(source=source)
    for key in ("input_type", "default_type"):
        if data.get(key) is not None:
            setattr(config, key, _type(data[key], f"{source}: {key}"))
    if data.get("reuse") is not None:
        config.reuse = _reuse(data["reuse"], f"{source}: reuse")
    for name, entry in layers.items():
        where = f"{source}: layers entry {name!r}"
        if not isinstance(name, str) or not isinstance(entry, dict) or not entry:
            raise ValueError(f"{where}: a node name or pattern mapped to some of {', '.join(_LAYER_KEYS)}")
        _known_keys(entry, _LAYER_KEYS, where)
        _one_knob(entry, where)
        config.layers[name] = {key: _reuse(value, f"{where}: {key}", key) if key in _KNOB_KEYS else
                               _type(value, f"{where}: {key}") for key, value in entry.items()}
    return config


def _one_knob(entry: dict, where: str) -> None:
    """A layer entry sets a reuse factor, or its SIMD and PE together, or neither."""
    if ("simd" in entry) != ("pe" in entry):
        raise ValueError(f"{where}: give simd and pe together (the fold: SIMD inputs x PE outputs a clock)")
    if "reuse" in entry and "simd" in entry:
        raise ValueError(f"{where}: give a reuse factor or a simd and pe, not both")


def _known_keys(data: dict, known: tuple, where: str) -> None:
    for key in data:
        if key not in known:
            raise ValueError(f"{where}: unknown key {key!r} (known: {', '.join(known)}){_split_type_hint(data)}")


def _split_type_hint(data: dict) -> str:
    """A hint when YAML split a type at its commas: `{weight: ap_fixed<10,2>}` reads as
    {'weight': 'ap_fixed<10', 2: None}."""
    split = any(isinstance(value, str) and "<" in value and ">" not in value for value in data.values())
    return "; a type inside {...} must be quoted: YAML splits it at its commas" if split else ""


def _type(value, where: str) -> FixedType:
    try:
        return FixedType.parse(value)
    except ValueError as err:
        raise ValueError(f"{where}: {err}") from None


_KNOB_NOUNS = {"reuse": "a reuse factor", "simd": "a SIMD", "pe": "a PE"}


def _reuse(value, where: str, key: str = "reuse") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{where}: {_KNOB_NOUNS[key]} is a positive integer, got {value!r}")
    return value
