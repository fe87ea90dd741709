// fxhls_softmax: softmax over the C values of a beat (a vector, or one pixel's channels),
// one beat per clock (fxhls.ir.ops.softmax is the reference), as a pipeline of registered
// steps, each path short enough for 250 MHz on UltraScale+ whatever C (the sum's adder tree
// excepted: ceil(log2 C) adders deep):
//   1. m = the largest input code (fxhls_max_tree: a compare-and-select tree, registered
//      every two levels, the codes travelling beside it);
//   2. k = m - x[c] (exact); e[c] = EXP entry min(k, EXP_N - 1), a registered ROM read
//      (fxhls_rom_stage: block RAM, two lanes per copy, where synthesis finds it worth it);
//   3. S = the exact sum of the e[c] (SUMX_W bits, fxhls_adder_tree), registered;
//   4. s = S cast to the sum type (fxhls_cast); r = RECIPROCAL entry (s - SUM_LOWEST), a
//      registered ROM read;
//   5. the exact products e[c] * r, registered (a DSP slice each);
//   6. y[c] = the products cast to the output type (fxhls_cast), registered.
// EXP_ENTRIES holds EXP_N codes of EXP_W bits (entry j at bits [j*EXP_W +: EXP_W]),
// RECIPROCAL_ENTRIES REC_N codes of REC_W bits: the codes fxhls computed (exp and 1/s
// quantized to their types), as the emulator and the HLS ROMs hold them. The exp, sum and
// reciprocal codes are never negative (the IR refuses types that would make them so).
module fxhls_softmax #(
    parameter integer C = 2,
    parameter integer X_W = 8,
    parameter integer X_SIGNED = 1,
    parameter integer EXP_W = 8,
    parameter integer EXP_FRAC = 7,
    parameter integer EXP_N = 2,
    parameter [EXP_N*EXP_W-1:0] EXP_ENTRIES = 0,
    parameter integer SUMX_W = 9,
    parameter integer SUM_W = 8,
    parameter integer SUM_FRAC = 6,
    parameter integer SUM_SIGNED = 0,
    parameter SUM_ROUNDING = "AP_RND",
    parameter SUM_OVERFLOW = "AP_SAT",
    parameter integer SUM_LOWEST = 0,
    parameter integer REC_W = 8,
    parameter integer REC_FRAC = 7,
    parameter integer REC_N = 2,
    parameter [REC_N*REC_W-1:0] RECIPROCAL_ENTRIES = 0,
    parameter integer OUT_W = 8,
    parameter integer OUT_FRAC = 7,
    parameter integer OUT_SIGNED = 0,
    parameter OUT_ROUNDING = "AP_RND",
    parameter OUT_OVERFLOW = "AP_SAT"
) (
    input  wire clk,
    input  wire rst_n,
    input  wire [C*X_W-1:0] s_axis_tdata,
    input  wire s_axis_tvalid,
    output wire s_axis_tready,
    output wire [C*OUT_W-1:0] m_axis_tdata,
    output wire m_axis_tvalid,
    input  wire m_axis_tready
);
    localparam integer XE_W = X_W + 1;  // a code extended to a signed number
    localparam integer EXP_INDEX_W = EXP_N > 1 ? $clog2(EXP_N) : 1;
    localparam integer REC_INDEX_W = REC_N > 1 ? $clog2(REC_N) : 1;
    localparam integer INDEX_W = C > 1 ? $clog2(C) : 1;
    localparam integer P_W = EXP_W + REC_W;
    /* verilator lint_off WIDTHTRUNC */
    localparam [EXP_INDEX_W-1:0] EXP_LAST = EXP_N - 1;  // both fit their widths
    localparam [SUM_W-1:0] LOWEST = SUM_LOWEST;
    /* verilator lint_on WIDTHTRUNC */
    genvar i;

    // Step 1: the largest value; the codes travel beside the tree.
    wire [C*XE_W-1:0] extended;
    generate
        for (i = 0; i < C; i = i + 1) begin : g_extend
            wire [X_W-1:0] code = s_axis_tdata[i*X_W +: X_W];
            assign extended[i*XE_W +: XE_W] = {X_SIGNED != 0 && code[X_W-1], code};
        end
    endgenerate
    wire [C*XE_W-1:0] x1;
    wire [INDEX_W-1:0] first1;  // unused: the value is what counts
    wire signed [XE_W-1:0] largest1;
    wire valid1, ready1;
    fxhls_max_tree #(.N(C), .X_W(XE_W), .INDEX_W(INDEX_W), .PAYLOAD_W(C*XE_W)) largest (
        .clk(clk), .rst_n(rst_n),
        .s_axis_tdata({extended, extended}), .s_axis_tvalid(s_axis_tvalid), .s_axis_tready(s_axis_tready),
        .m_axis_tdata({x1, first1, largest1}), .m_axis_tvalid(valid1), .m_axis_tready(ready1)
    );

    // Step 2: the differences and the exp entries.
    wire [C*EXP_INDEX_W-1:0] exp_index;
    generate
        for (i = 0; i < C; i = i + 1) begin : g_difference
            wire [XE_W-1:0] k = largest1 - $signed(x1[i*XE_W +: XE_W]);  // 0 .. 2**X_W - 1
            assign exp_index[i*EXP_INDEX_W +: EXP_INDEX_W] = k > EXP_LAST ? EXP_LAST : k[EXP_INDEX_W-1:0];
        end
    endgenerate
    wire [C*EXP_W-1:0] e2;
    wire unused2;
    wire valid2, ready2;
    fxhls_rom_stage #(.LANES(C), .N(EXP_N), .W(EXP_W), .ENTRIES(EXP_ENTRIES), .INDEX_W(EXP_INDEX_W)) exp_read (
        .clk(clk), .rst_n(rst_n),
        .s_axis_tdata({1'b0, exp_index}), .s_axis_tvalid(valid1), .s_axis_tready(ready1),
        .m_axis_tdata({unused2, e2}), .m_axis_tvalid(valid2), .m_axis_tready(ready2)
    );

    // Step 3: the exact sum.
    wire [SUMX_W-1:0] total2;  // SUMX_W = EXP_W + $clog2(C), the tree's sum
    fxhls_adder_tree #(.N(C), .W(EXP_W), .SIGNED(0)) sum (.clk(1'b0), .en(1'b0), .terms(e2), .sum(total2));
    wire [SUMX_W-1:0] total3;
    wire [C*EXP_W-1:0] e3;
    wire valid3, ready3;
    fxhls_stage #(.W(SUMX_W + C*EXP_W)) step3 (
        .clk(clk), .rst_n(rst_n),
        .s_axis_tdata({total2, e2}), .s_axis_tvalid(valid2), .s_axis_tready(ready2),
        .m_axis_tdata({total3, e3}), .m_axis_tvalid(valid3), .m_axis_tready(ready3)
    );

    // Step 4: the sum's cast and the reciprocal entry.
    wire [SUM_W-1:0] s3;
    fxhls_cast #(
        .IN_W(SUMX_W), .IN_FRAC(EXP_FRAC), .IN_SIGNED(0),
        .OUT_W(SUM_W), .OUT_FRAC(SUM_FRAC), .OUT_SIGNED(SUM_SIGNED),
        .ROUNDING(SUM_ROUNDING), .OVERFLOW(SUM_OVERFLOW)
    ) to_sum (.in(total3), .out(s3));
    wire [SUM_W-1:0] offset3 = s3 - LOWEST;  // 0 .. REC_N - 1
    wire [C*EXP_W-1:0] e4;
    wire [REC_W-1:0] r4;
    wire valid4, ready4;
    fxhls_rom_stage #(
        .LANES(1), .N(REC_N), .W(REC_W), .ENTRIES(RECIPROCAL_ENTRIES), .INDEX_W(REC_INDEX_W), .PAYLOAD_W(C*EXP_W)
    ) reciprocal_read (
        .clk(clk), .rst_n(rst_n),
        .s_axis_tdata({e3, offset3[REC_INDEX_W-1:0]}), .s_axis_tvalid(valid3), .s_axis_tready(ready3),
        .m_axis_tdata({e4, r4}), .m_axis_tvalid(valid4), .m_axis_tready(ready4)
    );

    // Step 5: the exact products.
    wire [C*P_W-1:0] product4;
    generate
        for (i = 0; i < C; i = i + 1) begin : g_product
            assign product4[i*P_W +: P_W] = e4[i*EXP_W +: EXP_W] * r4;
        end
    endgenerate
    wire [C*P_W-1:0] product5;
    wire valid5, ready5;
    fxhls_stage #(.W(C*P_W)) step5 (
        .clk(clk), .rst_n(rst_n),
        .s_axis_tdata(product4), .s_axis_tvalid(valid4), .s_axis_tready(ready4),
        .m_axis_tdata(product5), .m_axis_tvalid(valid5), .m_axis_tready(ready5)
    );

    // Step 6: the casts to the output type.
    wire [C*OUT_W-1:0] y5;
    generate
        for (i = 0; i < C; i = i + 1) begin : g_out
            fxhls_cast #(
                .IN_W(P_W), .IN_FRAC(EXP_FRAC + REC_FRAC), .IN_SIGNED(0),
                .OUT_W(OUT_W), .OUT_FRAC(OUT_FRAC), .OUT_SIGNED(OUT_SIGNED),
                .ROUNDING(OUT_ROUNDING), .OVERFLOW(OUT_OVERFLOW)
            ) to_out (.in(product5[i*P_W +: P_W]), .out(y5[i*OUT_W +: OUT_W]));
        end
    endgenerate
    fxhls_stage #(.W(C*OUT_W)) step6 (
        .clk(clk), .rst_n(rst_n),
        .s_axis_tdata(y5), .s_axis_tvalid(valid5), .s_axis_tready(ready5),
        .m_axis_tdata(m_axis_tdata), .m_axis_tvalid(m_axis_tvalid), .m_axis_tready(m_axis_tready)
    );
endmodule
