"""The generated RTL top of a whole model: `write_rtl(graph, design, out_dir, parallelism)`
writes DIR/rtl/<top>.v (AXI-Stream in -> unpack -> one stage per hardware-graph node ->
pack -> AXI-Stream out, ports named like a Vitis HLS `ap_ctrl_none` AXIS IP) and the
library modules it instantiates. (Work in progress: issue 6, integration.)"""
