// fxhls_cast: the ap_fixed assignment `out_t out = in;`, purely combinational.
//
// `in` is the code of a fixed-point value with IN_W bits, IN_FRAC of them fractional
// (IN_FRAC may be negative or exceed IN_W), two's complement when IN_SIGNED. `out` is the
// code of the output type ap_[u]fixed<OUT_W, OUT_W - OUT_FRAC, ROUNDING, OVERFLOW>.
// ROUNDING: "AP_TRN", "AP_TRN_ZERO", "AP_RND", "AP_RND_ZERO", "AP_RND_MIN_INF",
// "AP_RND_INF", "AP_RND_CONV". OVERFLOW: "AP_WRAP", "AP_SAT", "AP_SAT_ZERO", "AP_SAT_SYM".
// The reference is fxhls.fixed.quantize; an unknown mode stops elaboration.
module fxhls_cast #(
    parameter integer IN_W = 8,
    parameter integer IN_FRAC = 0,
    parameter integer IN_SIGNED = 1,
    parameter integer OUT_W = 8,
    parameter integer OUT_FRAC = 0,
    parameter integer OUT_SIGNED = 1,
    parameter ROUNDING = "AP_TRN",
    parameter OVERFLOW = "AP_WRAP"
) (
    input  wire [IN_W-1:0]  in,
    output wire [OUT_W-1:0] out
);
    // Output lsbs dropped from the input (DROP > 0) or appended below it (GROW > 0).
    localparam integer DROP = IN_FRAC > OUT_FRAC ? IN_FRAC - OUT_FRAC : 0;
    localparam integer GROW = OUT_FRAC > IN_FRAC ? OUT_FRAC - IN_FRAC : 0;
    // The value in output lsbs, before overflow, fits WQ signed bits (one spare for
    // the rounding increment, and at least one above the output's range).
    localparam integer WQ = IN_W + 2 + GROW > OUT_W + 1 ? IN_W + 2 + GROW : OUT_W + 1;
    localparam integer WE = WQ + DROP;

    localparam [OUT_W-1:0] MAX_CODE = OUT_SIGNED != 0 ? {OUT_W{1'b1}} >> 1 : {OUT_W{1'b1}};
    localparam [OUT_W-1:0] MIN_CODE = OUT_SIGNED != 0 ? ~MAX_CODE : {OUT_W{1'b0}};
    localparam [OUT_W-1:0] MIN_SYMMETRIC = OUT_SIGNED != 0 && OUT_W > 1 ? MIN_CODE + 1'b1 : MIN_CODE;

    // The input in WE bits with DROP fraction bits below the output's lsb.
    wire [WE-1:0] extended = IN_SIGNED != 0 ? {{(WE - IN_W){in[IN_W-1]}}, in} : {{(WE - IN_W){1'b0}}, in};
    wire [WE-1:0] scaled = extended << GROW;
    wire [WQ-1:0] floored = scaled[WE-1:DROP];  // floor(value / lsb_out)
    wire negative = scaled[WE-1];

    // Round: add one to the floor when the dropped bits call for it.
    // (Mode names are strings of different lengths: comparing them is no width defect.)
    wire round_up;
    /* verilator lint_off WIDTH */
    generate
        if (DROP == 0 || ROUNDING == "AP_TRN") begin : g_floor
            assign round_up = 1'b0;
        end else begin : g_round
            wire half = scaled[DROP-1];  // the first dropped bit
            wire below_half;             // any dropped bit after it
            if (DROP > 1) begin : g_rest
                assign below_half = |scaled[DROP-2:0];
            end else begin : g_no_rest
                assign below_half = 1'b0;
            end
            if (ROUNDING == "AP_TRN_ZERO") begin : g_trn_zero
                assign round_up = negative & (half | below_half);
            end else if (ROUNDING == "AP_RND") begin : g_rnd
                assign round_up = half;
            end else if (ROUNDING == "AP_RND_MIN_INF") begin : g_rnd_min_inf
                assign round_up = half & below_half;
            end else if (ROUNDING == "AP_RND_ZERO") begin : g_rnd_zero
                assign round_up = half & (below_half | negative);
            end else if (ROUNDING == "AP_RND_INF") begin : g_rnd_inf
                assign round_up = half & (below_half | ~negative);
            end else if (ROUNDING == "AP_RND_CONV") begin : g_rnd_conv
                assign round_up = half & (below_half | floored[0]);
            end else begin : g_bad_rounding
                fxhls_cast_unknown_rounding_mode unknown_rounding_mode ();
            end
        end
    endgenerate
    wire [WQ-1:0] rounded = floored + {{(WQ - 1){1'b0}}, round_up};

    // Overflow: does the rounded value fit the output's range, and what replaces it if not.
    wire rounded_negative = rounded[WQ-1];
    wire fits = OUT_SIGNED != 0 ? (&rounded[WQ-1:OUT_W-1] | ~|rounded[WQ-1:OUT_W-1]) : ~|rounded[WQ-1:OUT_W];
    wire [OUT_W-1:0] kept = rounded[OUT_W-1:0];
    generate
        if (OVERFLOW == "AP_WRAP") begin : g_wrap
            assign out = kept;
        end else if (OVERFLOW == "AP_SAT") begin : g_sat
            assign out = fits ? kept : rounded_negative ? MIN_CODE : MAX_CODE;
        end else if (OVERFLOW == "AP_SAT_ZERO") begin : g_sat_zero
            assign out = fits ? kept : {OUT_W{1'b0}};
        end else if (OVERFLOW == "AP_SAT_SYM") begin : g_sat_sym
            wire excluded = kept == MIN_CODE && MIN_SYMMETRIC != MIN_CODE;  // the code it leaves out
            assign out = fits && !excluded ? kept : rounded_negative ? MIN_SYMMETRIC : MAX_CODE;
        end else begin : g_bad_overflow
            fxhls_cast_unknown_overflow_mode unknown_overflow_mode ();
        end
    endgenerate
    /* verilator lint_on WIDTH */
endmodule
