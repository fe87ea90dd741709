"""The HLS backend: a Vitis HLS project (streaming dataflow C++) from a hardware graph."""
