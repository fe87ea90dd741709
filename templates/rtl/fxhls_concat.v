// fxhls_concat: two streams joined beat by beat along the channels (a Concat on the
// channel axis; three or more inputs: a chain of these).
//
// An output beat takes one beat from each input (s0: A_LANES values of type A, s1:
// B_LANES values of type B) and holds s0's values in its low lanes, then s1's, each
// converted to the output type, which holds every value of both exactly (a shift and
// an extension; `fxhls.fixed.common_type`); the output is registered.
module fxhls_concat #(
    parameter integer A_LANES = 1,
    parameter integer B_LANES = 1,
    parameter integer A_W = 8,
    parameter integer A_FRAC = 0,
    parameter integer A_SIGNED = 1,
    parameter integer B_W = 8,
    parameter integer B_FRAC = 0,
    parameter integer B_SIGNED = 1,
    parameter integer OUT_W = 8,
    parameter integer OUT_FRAC = 0,
    parameter integer OUT_SIGNED = 1
) (
    input  wire clk,
    input  wire rst_n,
    input  wire [A_LANES*A_W-1:0] s0_axis_tdata,
    input  wire s0_axis_tvalid,
    output wire s0_axis_tready,
    input  wire [B_LANES*B_W-1:0] s1_axis_tdata,
    input  wire s1_axis_tvalid,
    output wire s1_axis_tready,
    output wire [(A_LANES+B_LANES)*OUT_W-1:0] m_axis_tdata,
    output wire m_axis_tvalid,
    input  wire m_axis_tready
);
    wire [(A_LANES+B_LANES)*OUT_W-1:0] joined;
    genvar i;
    generate
        for (i = 0; i < A_LANES; i = i + 1) begin : g_a
            fxhls_cast #(
                .IN_W(A_W), .IN_FRAC(A_FRAC), .IN_SIGNED(A_SIGNED),
                .OUT_W(OUT_W), .OUT_FRAC(OUT_FRAC), .OUT_SIGNED(OUT_SIGNED)
            ) to_out (.in(s0_axis_tdata[i*A_W +: A_W]), .out(joined[i*OUT_W +: OUT_W]));
        end
        for (i = 0; i < B_LANES; i = i + 1) begin : g_b
            fxhls_cast #(
                .IN_W(B_W), .IN_FRAC(B_FRAC), .IN_SIGNED(B_SIGNED),
                .OUT_W(OUT_W), .OUT_FRAC(OUT_FRAC), .OUT_SIGNED(OUT_SIGNED)
            ) to_out (.in(s1_axis_tdata[i*B_W +: B_W]), .out(joined[(A_LANES+i)*OUT_W +: OUT_W]));
        end
    endgenerate

    // Join: a beat moves when both inputs have one and the stage takes it.
    wire both_valid = s0_axis_tvalid && s1_axis_tvalid;
    wire stage_ready;
    assign s0_axis_tready = stage_ready && s1_axis_tvalid;
    assign s1_axis_tready = stage_ready && s0_axis_tvalid;

    fxhls_stage #(.W((A_LANES+B_LANES)*OUT_W)) stage (
        .clk(clk), .rst_n(rst_n),
        .s_axis_tdata(joined), .s_axis_tvalid(both_valid), .s_axis_tready(stage_ready),
        .m_axis_tdata(m_axis_tdata), .m_axis_tvalid(m_axis_tvalid), .m_axis_tready(m_axis_tready)
    );
endmodule
