// fxhls_table: an element-wise function as a lookup table (a ROM), on each of LANES lanes.
//
// ENTRIES holds 2**X_W codes of OUT_W bits; entry k (bits [k*OUT_W +: OUT_W]) is the
// output for the input whose raw bits are k: fxhls quantized the float function of that
// input to the output type (fxhls.ir.ops.table), as the emulator and the HLS ROM hold it.
// The read is registered (fxhls_rom_stage: block RAM, two lanes per copy, or LUT RAM where
// synthesis finds it worth it; no tree of LUTs as deep as the input is wide).
module fxhls_table #(
    parameter integer LANES = 1,
    parameter integer X_W = 8,
    parameter integer OUT_W = 8,
    parameter [(2**X_W)*OUT_W-1:0] ENTRIES = 0
) (
    input  wire clk,
    input  wire rst_n,
    input  wire [LANES*X_W-1:0] s_axis_tdata,
    input  wire s_axis_tvalid,
    output wire s_axis_tready,
    output wire [LANES*OUT_W-1:0] m_axis_tdata,
    output wire m_axis_tvalid,
    input  wire m_axis_tready
);
    wire unused_payload;
    fxhls_rom_stage #(.LANES(LANES), .N(2**X_W), .W(OUT_W), .ENTRIES(ENTRIES), .INDEX_W(X_W)) read (
        .clk(clk), .rst_n(rst_n),
        .s_axis_tdata({1'b0, s_axis_tdata}), .s_axis_tvalid(s_axis_tvalid), .s_axis_tready(s_axis_tready),
        .m_axis_tdata({unused_payload, m_axis_tdata}), .m_axis_tvalid(m_axis_tvalid), .m_axis_tready(m_axis_tready)
    );
endmodule
