// fxhls_softmax: softmax over the C values of a beat (a vector, or one pixel's channels),
// one beat per clock, three registered steps (fxhls.ir.ops.softmax is the reference):
//   1. m = the largest input code; k = m - x[c] (exact); e[c] = EXP entry min(k, EXP_N - 1);
//   2. the exact sum of the e[c] (SUMX_W bits) cast to the sum type (fxhls_cast);
//      r = RECIPROCAL entry (s - SUM_LOWEST);
//   3. y[c] = e[c] * r, exact, cast to the output type (fxhls_cast).
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
    localparam integer EXP_INDEX_W = EXP_N > 1 ? $clog2(EXP_N) : 1;
    localparam integer REC_INDEX_W = REC_N > 1 ? $clog2(REC_N) : 1;
    localparam integer P_W = EXP_W + REC_W;
    /* verilator lint_off WIDTHTRUNC */
    localparam [EXP_INDEX_W-1:0] EXP_LAST = EXP_N - 1;  // both fit their widths
    localparam [SUM_W-1:0] LOWEST = SUM_LOWEST;
    /* verilator lint_on WIDTHTRUNC */

    // The tables as memories read by an index, filled at start-up (as fxhls_table).
    reg [EXP_W-1:0] exp_rom [0:EXP_N-1];
    reg [REC_W-1:0] reciprocal_rom [0:REC_N-1];
    integer j;
    initial begin
        for (j = 0; j < EXP_N; j = j + 1) exp_rom[j] = EXP_ENTRIES[j*EXP_W +: EXP_W];
        for (j = 0; j < REC_N; j = j + 1) reciprocal_rom[j] = RECIPROCAL_ENTRIES[j*REC_W +: REC_W];
    end

    // Step 1: the largest value, the differences, the exp entries.
    wire signed [X_W:0] x [0:C-1];
    wire [C*EXP_W-1:0] e_in;
    reg signed [X_W:0] largest;
    integer c;
    always @* begin
        largest = x[0];
        for (c = 1; c < C; c = c + 1)
            if (x[c] > largest) largest = x[c];
    end
    genvar i;
    generate
        for (i = 0; i < C; i = i + 1) begin : g_exp
            wire [X_W-1:0] code = s_axis_tdata[i*X_W +: X_W];
            assign x[i] = X_SIGNED != 0 ? {code[X_W-1], code} : {1'b0, code};
            wire [X_W:0] k = largest - x[i];  // 0 .. 2**X_W - 1
            wire [EXP_INDEX_W-1:0] index = k > EXP_LAST ? EXP_LAST : k[EXP_INDEX_W-1:0];
            assign e_in[i*EXP_W +: EXP_W] = exp_rom[index];
        end
    endgenerate
    wire [C*EXP_W-1:0] e1;
    wire valid1, ready1;
    fxhls_stage #(.W(C*EXP_W)) step1 (
        .clk(clk), .rst_n(rst_n),
        .s_axis_tdata(e_in), .s_axis_tvalid(s_axis_tvalid), .s_axis_tready(s_axis_tready),
        .m_axis_tdata(e1), .m_axis_tvalid(valid1), .m_axis_tready(ready1)
    );

    // Step 2: the exact sum, its cast, the reciprocal entry.
    reg [SUMX_W-1:0] total;
    always @* begin
        total = {SUMX_W{1'b0}};
        for (c = 0; c < C; c = c + 1) total = total + {{(SUMX_W - EXP_W){1'b0}}, e1[c*EXP_W +: EXP_W]};
    end
    wire [SUM_W-1:0] s;
    fxhls_cast #(
        .IN_W(SUMX_W), .IN_FRAC(EXP_FRAC), .IN_SIGNED(0),
        .OUT_W(SUM_W), .OUT_FRAC(SUM_FRAC), .OUT_SIGNED(SUM_SIGNED),
        .ROUNDING(SUM_ROUNDING), .OVERFLOW(SUM_OVERFLOW)
    ) to_sum (.in(total), .out(s));
    wire [SUM_W-1:0] offset = s - LOWEST;  // 0 .. REC_N - 1
    wire [REC_W-1:0] r_in = reciprocal_rom[offset[REC_INDEX_W-1:0]];
    wire [C*EXP_W-1:0] e2;
    wire [REC_W-1:0] r2;
    wire valid2, ready2;
    fxhls_stage #(.W(C*EXP_W + REC_W)) step2 (
        .clk(clk), .rst_n(rst_n),
        .s_axis_tdata({r_in, e1}), .s_axis_tvalid(valid1), .s_axis_tready(ready1),
        .m_axis_tdata({r2, e2}), .m_axis_tvalid(valid2), .m_axis_tready(ready2)
    );

    // Step 3: the products and their casts.
    wire [C*OUT_W-1:0] y;
    generate
        for (i = 0; i < C; i = i + 1) begin : g_product
            wire [P_W-1:0] product = e2[i*EXP_W +: EXP_W] * r2;
            fxhls_cast #(
                .IN_W(P_W), .IN_FRAC(EXP_FRAC + REC_FRAC), .IN_SIGNED(0),
                .OUT_W(OUT_W), .OUT_FRAC(OUT_FRAC), .OUT_SIGNED(OUT_SIGNED),
                .ROUNDING(OUT_ROUNDING), .OVERFLOW(OUT_OVERFLOW)
            ) to_out (.in(product), .out(y[i*OUT_W +: OUT_W]));
        end
    endgenerate
    fxhls_stage #(.W(C*OUT_W)) step3 (
        .clk(clk), .rst_n(rst_n),
        .s_axis_tdata(y), .s_axis_tvalid(valid2), .s_axis_tready(ready2),
        .m_axis_tdata(m_axis_tdata), .m_axis_tvalid(m_axis_tvalid), .m_axis_tready(m_axis_tready)
    );
endmodule
