// fxhls_sign: the binary activation, +1 where x >= 0 else -1, on each of LANES lanes.
//
// In: ap_fixed codes of X_W bits (two's complement when X_SIGNED). Out: one bit per
// lane, 1 meaning +1 and 0 meaning -1 (the binarized values the compute layers take).
// The output is registered (fxhls_stage).
module fxhls_sign #(
    parameter integer LANES = 1,
    parameter integer X_W = 8,
    parameter integer X_SIGNED = 1
) (
    input  wire clk,
    input  wire rst_n,
    input  wire [LANES*X_W-1:0] s_axis_tdata,
    input  wire s_axis_tvalid,
    output wire s_axis_tready,
    output wire [LANES-1:0] m_axis_tdata,
    output wire m_axis_tvalid,
    input  wire m_axis_tready
);
    wire [LANES-1:0] signs;
    genvar i;
    generate
        for (i = 0; i < LANES; i = i + 1) begin : g_lane
            assign signs[i] = X_SIGNED == 0 || !s_axis_tdata[i*X_W + X_W - 1];
        end
    endgenerate

    fxhls_stage #(.W(LANES)) stage (
        .clk(clk), .rst_n(rst_n),
        .s_axis_tdata(signs), .s_axis_tvalid(s_axis_tvalid), .s_axis_tready(s_axis_tready),
        .m_axis_tdata(m_axis_tdata), .m_axis_tvalid(m_axis_tvalid), .m_axis_tready(m_axis_tready)
    );
endmodule
