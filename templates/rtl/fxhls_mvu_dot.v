// One neuron's dot product over one beat, by the kind of its weights: "mul"
// (multipliers), "khot" (shift-add, no multiplier) or "xnor" (binarized, popcount).
// The ports are those of fxhls_dot_mul; see each kind's module for its weight lanes.
module fxhls_mvu_dot #(
    parameter KIND = "mul",
    parameter integer SIMD = 1,
    parameter integer X_W = 8,
    parameter integer X_SIGNED = 1,
    parameter integer X_BINARY = 0,
    parameter integer W_W = 8,
    parameter integer W_SIGNED = 1,
    parameter integer K = 1,
    parameter integer SHIFT_W = 1,
    parameter integer DOT_W = 24
) (
    input  wire [SIMD*X_W-1:0] x,
    input  wire [SIMD*W_W-1:0] w,
    output wire signed [DOT_W-1:0] dot
);
    // (KIND is compared with names of other lengths: no width defect.)
    /* verilator lint_off WIDTHEXPAND */
    generate
        if (KIND == "khot") begin : g_khot
            fxhls_dot_khot #(
                .SIMD(SIMD), .X_W(X_W), .X_SIGNED(X_SIGNED), .X_BINARY(X_BINARY),
                .K(K), .SHIFT_W(SHIFT_W), .DOT_W(DOT_W)
            ) lanes (.x(x), .w(w), .dot(dot));
        end else if (KIND == "xnor") begin : g_xnor
            fxhls_dot_xnor #(.SIMD(SIMD), .DOT_W(DOT_W)) lanes (.x(x), .w(w), .dot(dot));
        end else begin : g_mul
            fxhls_dot_mul #(
                .SIMD(SIMD), .X_W(X_W), .X_SIGNED(X_SIGNED), .X_BINARY(X_BINARY),
                .W_W(W_W), .W_SIGNED(W_SIGNED), .DOT_W(DOT_W)
            ) lanes (.x(x), .w(w), .dot(dot));
        end
    endgenerate
    /* verilator lint_on WIDTHEXPAND */
endmodule
