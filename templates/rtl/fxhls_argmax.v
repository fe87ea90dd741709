// fxhls_argmax: the index of the largest of the C values of a beat (the first on ties),
// one beat per clock: fxhls_max_tree, whose last register holds the output (OUT_W bits,
// unsigned), so every path holds at most two compare-and-selects whatever C.
module fxhls_argmax #(
    parameter integer C = 2,
    parameter integer X_W = 8,
    parameter integer X_SIGNED = 1,
    parameter integer OUT_W = 1
) (
    input  wire clk,
    input  wire rst_n,
    input  wire [C*X_W-1:0] s_axis_tdata,
    input  wire s_axis_tvalid,
    output wire s_axis_tready,
    output wire [OUT_W-1:0] m_axis_tdata,
    output wire m_axis_tvalid,
    input  wire m_axis_tready
);
    wire [C*(X_W+1)-1:0] x;
    genvar i;
    generate
        for (i = 0; i < C; i = i + 1) begin : g_lane
            wire [X_W-1:0] code = s_axis_tdata[i*X_W +: X_W];
            assign x[i*(X_W+1) +: X_W+1] = {X_SIGNED != 0 && code[X_W-1], code};
        end
    endgenerate
    wire unused_payload;
    wire [X_W:0] unused_largest;
    fxhls_max_tree #(.N(C), .X_W(X_W + 1), .INDEX_W(OUT_W)) tree (
        .clk(clk), .rst_n(rst_n),
        .s_axis_tdata({1'b0, x}), .s_axis_tvalid(s_axis_tvalid), .s_axis_tready(s_axis_tready),
        .m_axis_tdata({unused_payload, m_axis_tdata, unused_largest}), .m_axis_tvalid(m_axis_tvalid),
        .m_axis_tready(m_axis_tready)
    );
endmodule
