// fxhls_table: an element-wise function as a lookup table (a ROM), on each of LANES lanes.
//
// ENTRIES holds 2**X_W codes of OUT_W bits; entry k (bits [k*OUT_W +: OUT_W]) is the
// output for the input whose raw bits are k: fxhls quantized the float function of that
// input to the output type (fxhls.ir.ops.table), as the emulator and the HLS ROM hold it.
// The output is registered (fxhls_stage).
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
    // The entries as a memory read by the input (no run-time index times OUT_W), filled
    // at start-up (a loop of 2**X_W would pass Verilator's generate unroll limit).
    reg [OUT_W-1:0] rom [0:(2**X_W)-1];
    integer k;
    initial for (k = 0; k < 2**X_W; k = k + 1) rom[k] = ENTRIES[k*OUT_W +: OUT_W];
    wire [LANES*OUT_W-1:0] result;
    genvar i;
    generate
        for (i = 0; i < LANES; i = i + 1) begin : g_lane
            assign result[i*OUT_W +: OUT_W] = rom[s_axis_tdata[i*X_W +: X_W]];
        end
    endgenerate

    fxhls_stage #(.W(LANES*OUT_W)) stage (
        .clk(clk), .rst_n(rst_n),
        .s_axis_tdata(result), .s_axis_tvalid(s_axis_tvalid), .s_axis_tready(s_axis_tready),
        .m_axis_tdata(m_axis_tdata), .m_axis_tvalid(m_axis_tvalid), .m_axis_tready(m_axis_tready)
    );
endmodule
