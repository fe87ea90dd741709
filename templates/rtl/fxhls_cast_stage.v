// fxhls_cast_stage: the ap_fixed cast of each of LANES lanes (a lone Quantize node of
// the graph), from IN_* to OUT_* (see fxhls_cast). The output is registered (fxhls_stage).
module fxhls_cast_stage #(
    parameter integer LANES = 1,
    parameter integer X_W = 8,
    parameter integer X_FRAC = 0,
    parameter integer X_SIGNED = 1,
    parameter integer OUT_W = 8,
    parameter integer OUT_FRAC = 0,
    parameter integer OUT_SIGNED = 1,
    parameter OUT_ROUNDING = "AP_TRN",
    parameter OUT_OVERFLOW = "AP_WRAP"
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
    wire [LANES*OUT_W-1:0] casts;
    genvar i;
    generate
        for (i = 0; i < LANES; i = i + 1) begin : g_lane
            fxhls_cast #(
                .IN_W(X_W), .IN_FRAC(X_FRAC), .IN_SIGNED(X_SIGNED),
                .OUT_W(OUT_W), .OUT_FRAC(OUT_FRAC), .OUT_SIGNED(OUT_SIGNED),
                .ROUNDING(OUT_ROUNDING), .OVERFLOW(OUT_OVERFLOW)
            ) cast (.in(s_axis_tdata[i*X_W +: X_W]), .out(casts[i*OUT_W +: OUT_W]));
        end
    endgenerate

    fxhls_stage #(.W(LANES*OUT_W)) stage (
        .clk(clk), .rst_n(rst_n),
        .s_axis_tdata(casts), .s_axis_tvalid(s_axis_tvalid), .s_axis_tready(s_axis_tready),
        .m_axis_tdata(m_axis_tdata), .m_axis_tvalid(m_axis_tvalid), .m_axis_tready(m_axis_tready)
    );
endmodule
