// fxhls_add: the residual add of two streams, lane by lane, exact, then the cast to
// the output type.
//
// A beat of the sum takes one beat from each input (s0: type A, s1: type B; LANES lanes
// each, lane i at [i*A_W +: A_W] and [i*B_W +: B_W]); the output is registered.
module fxhls_add #(
    parameter integer LANES = 1,
    parameter integer A_W = 8,
    parameter integer A_FRAC = 0,
    parameter integer A_SIGNED = 1,
    parameter integer B_W = 8,
    parameter integer B_FRAC = 0,
    parameter integer B_SIGNED = 1,
    parameter integer OUT_W = 8,
    parameter integer OUT_FRAC = 0,
    parameter integer OUT_SIGNED = 1,
    parameter OUT_ROUNDING = "AP_TRN",
    parameter OUT_OVERFLOW = "AP_WRAP"
) (
    input  wire clk,
    input  wire rst_n,
    input  wire [LANES*A_W-1:0] s0_axis_tdata,
    input  wire s0_axis_tvalid,
    output wire s0_axis_tready,
    input  wire [LANES*B_W-1:0] s1_axis_tdata,
    input  wire s1_axis_tvalid,
    output wire s1_axis_tready,
    output wire [LANES*OUT_W-1:0] m_axis_tdata,
    output wire m_axis_tvalid,
    input  wire m_axis_tready
);
    localparam integer SUM_FRAC = A_FRAC > B_FRAC ? A_FRAC : B_FRAC;
    localparam integer A_SHIFT = SUM_FRAC - A_FRAC;
    localparam integer B_SHIFT = SUM_FRAC - B_FRAC;
    localparam integer SUM_W = 2 + (A_W + A_SHIFT > B_W + B_SHIFT ? A_W + A_SHIFT : B_W + B_SHIFT);

    wire [LANES*OUT_W-1:0] result;
    genvar i;
    generate
        for (i = 0; i < LANES; i = i + 1) begin : g_lane
            wire [A_W-1:0] a = s0_axis_tdata[i*A_W +: A_W];
            wire [B_W-1:0] b = s1_axis_tdata[i*B_W +: B_W];
            wire signed [A_W:0] a_value = $signed({A_SIGNED != 0 && a[A_W-1], a});
            wire signed [B_W:0] b_value = $signed({B_SIGNED != 0 && b[B_W-1], b});
            wire signed [SUM_W-1:0] sum = (a_value <<< A_SHIFT) + (b_value <<< B_SHIFT);
            fxhls_cast #(
                .IN_W(SUM_W), .IN_FRAC(SUM_FRAC), .IN_SIGNED(1),
                .OUT_W(OUT_W), .OUT_FRAC(OUT_FRAC), .OUT_SIGNED(OUT_SIGNED),
                .ROUNDING(OUT_ROUNDING), .OVERFLOW(OUT_OVERFLOW)
            ) to_out (.in(sum), .out(result[i*OUT_W +: OUT_W]));
        end
    endgenerate

    // Join: a beat moves when both inputs have one and the stage takes it.
    wire both_valid = s0_axis_tvalid && s1_axis_tvalid;
    wire stage_ready;
    assign s0_axis_tready = stage_ready && s1_axis_tvalid;
    assign s1_axis_tready = stage_ready && s0_axis_tvalid;

    fxhls_stage #(.W(LANES*OUT_W)) stage (
        .clk(clk), .rst_n(rst_n),
        .s_axis_tdata(result), .s_axis_tvalid(both_valid), .s_axis_tready(stage_ready),
        .m_axis_tdata(m_axis_tdata), .m_axis_tvalid(m_axis_tvalid), .m_axis_tready(m_axis_tready)
    );
endmodule
