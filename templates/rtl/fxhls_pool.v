// fxhls_pool: max or average pooling of a (C, H, W) image stream zero padded by PH rows
// above and below and PW columns left and right (the zeros count in the maximum and in N).
//
// In and out: pixels in row-major order, each pixel's C channels as C/SIMD beats of SIMD
// lanes. fxhls_window (CHANNEL_MAJOR) keeps ROWS image rows (a power of two, at least KH)
// and gives each output pixel's window one channel group at a time, KH*KW beats each;
// fxhls_reduce turns each run into one beat (see there for KIND, RECIP and the cast).
// One window beat per clock: KH*KW*C/SIMD clocks per output pixel.
module fxhls_pool #(
    parameter KIND = "max",
    parameter integer C = 1,
    parameter integer SIMD = 1,
    parameter integer X_W = 8,
    parameter integer X_FRAC = 0,
    parameter integer X_SIGNED = 1,
    parameter integer H = 4,
    parameter integer W = 4,
    parameter integer KH = 2,
    parameter integer KW = 2,
    parameter integer SH = 2,
    parameter integer SW = 2,
    parameter integer PH = 0,
    parameter integer PW = 0,
    parameter integer ROWS = 4,
    parameter integer RECIP_W = 1,
    parameter [RECIP_W-1:0] RECIP = 1,
    parameter integer RECIP_FRAC = 0,
    parameter integer OUT_W = 8,
    parameter integer OUT_FRAC = 0,
    parameter integer OUT_SIGNED = 1,
    parameter OUT_ROUNDING = "AP_TRN",
    parameter OUT_OVERFLOW = "AP_WRAP"
) (
    input  wire clk,
    input  wire rst_n,
    input  wire [SIMD*X_W-1:0] s_axis_tdata,
    input  wire s_axis_tvalid,
    output wire s_axis_tready,
    output wire [SIMD*OUT_W-1:0] m_axis_tdata,
    output wire m_axis_tvalid,
    input  wire m_axis_tready
);
    wire [SIMD*X_W-1:0] window_tdata;
    wire window_tvalid, window_tready;

    fxhls_window #(
        .C(C), .SIMD(SIMD), .X_W(X_W), .H(H), .W(W), .KH(KH), .KW(KW), .SH(SH), .SW(SW),
        .PH(PH), .PW(PW), .ROWS(ROWS), .CHANNEL_MAJOR(1), .PAD_FLAG(0)
    ) window (
        .clk(clk), .rst_n(rst_n),
        .s_axis_tdata(s_axis_tdata), .s_axis_tvalid(s_axis_tvalid), .s_axis_tready(s_axis_tready),
        .m_axis_tdata(window_tdata), .m_axis_tvalid(window_tvalid), .m_axis_tready(window_tready)
    );

    fxhls_reduce #(
        .KIND(KIND), .SIMD(SIMD), .GROUPS(1), .COUNT(KH * KW),
        .X_W(X_W), .X_FRAC(X_FRAC), .X_SIGNED(X_SIGNED),
        .RECIP_W(RECIP_W), .RECIP(RECIP), .RECIP_FRAC(RECIP_FRAC),
        .OUT_W(OUT_W), .OUT_FRAC(OUT_FRAC), .OUT_SIGNED(OUT_SIGNED),
        .OUT_ROUNDING(OUT_ROUNDING), .OUT_OVERFLOW(OUT_OVERFLOW)
    ) reduce (
        .clk(clk), .rst_n(rst_n),
        .s_axis_tdata(window_tdata), .s_axis_tvalid(window_tvalid), .s_axis_tready(window_tready),
        .m_axis_tdata(m_axis_tdata), .m_axis_tvalid(m_axis_tvalid), .m_axis_tready(m_axis_tready)
    );
endmodule
