// fxhls_channel_scale: on each of LANES lanes, x times its channel's constant, exact and
// combinational (the products of fxhls_affine and fxhls_prelu).
//
// A beat holds LANES of the C channels (C / LANES beats per pixel or vector, in channel
// order); lane i of the beat of channel group `group` (fxhls_channel_group) is channel
// group*LANES + i. Channel c's constant:
// - KIND "mul": SCALES[c*SCALE_W +: SCALE_W], a code with SCALE_FRAC fractional bits,
//   multiplied (a DSP or LUT multiplier);
// - KIND "khot": K terms at TERMS[(c*K+k)*(SHIFT_W+2) +: SHIFT_W+2], each {used, negative,
//   shift} as in fxhls_dot_khot: the constant is the sum of +-2**(shift - SCALE_FRAC),
//   multiplied with shifts and additions only.
// Each product (signed, X_FRAC + SCALE_FRAC fractional bits) takes PROD_W bits: at least
// X_W + SCALE_W + 3 ("mul") or X_W + 2**SHIFT_W + 3 + $clog2(K) ("khot").
module fxhls_channel_scale #(
    parameter integer C = 1,
    parameter integer LANES = 1,
    parameter integer GROUP_W = 1,
    parameter integer X_W = 8,
    parameter integer X_SIGNED = 1,
    parameter KIND = "mul",
    parameter integer SCALE_W = 8,
    parameter integer SCALE_SIGNED = 1,
    parameter [C*SCALE_W-1:0] SCALES = 0,
    parameter integer K = 1,
    parameter integer SHIFT_W = 3,
    parameter [C*K*(SHIFT_W+2)-1:0] TERMS = 0,
    parameter integer PROD_W = 16
) (
    input  wire [LANES*X_W-1:0] x,
    input  wire [GROUP_W-1:0] group,
    output wire [LANES*PROD_W-1:0] product
);
    localparam integer GROUPS = C / LANES;
    localparam integer TERM_W = SHIFT_W + 2;
    /* verilator lint_off WIDTH */
    localparam USE_KHOT = KIND == "khot";  // one bit
    /* verilator lint_on WIDTH */

    genvar i, g;
    generate
        for (i = 0; i < LANES; i = i + 1) begin : g_lane
            // The lane's constants for each group, chosen by `group` (a multiplexer: an
            // index computed at run time would multiply, and might take a DSP).
            wire [SCALE_W-1:0] scales [0:GROUPS-1];
            wire [K*TERM_W-1:0] terms [0:GROUPS-1];
            for (g = 0; g < GROUPS; g = g + 1) begin : g_group
                assign scales[g] = SCALES[(g*LANES + i)*SCALE_W +: SCALE_W];
                assign terms[g] = TERMS[(g*LANES + i)*K*TERM_W +: K*TERM_W];
            end
            wire [X_W-1:0] lane_x = x[i*X_W +: X_W];
            if (USE_KHOT) begin : g_khot
                fxhls_dot_khot #(
                    .SIMD(1), .X_W(X_W), .X_SIGNED(X_SIGNED), .K(K), .SHIFT_W(SHIFT_W), .DOT_W(PROD_W)
                ) scale (.x(lane_x), .w(terms[group]), .dot(product[i*PROD_W +: PROD_W]));
            end else begin : g_mul
                fxhls_dot_mul #(
                    .SIMD(1), .X_W(X_W), .X_SIGNED(X_SIGNED), .W_W(SCALE_W), .W_SIGNED(SCALE_SIGNED), .DOT_W(PROD_W)
                ) scale (.x(lane_x), .w(scales[group]), .dot(product[i*PROD_W +: PROD_W]));
            end
        end
    endgenerate
endmodule
