// fxhls_scale_const: y = x * SCALE for a constant non-negative integer SCALE, exact, with
// shifts and additions only (one adder per set bit of SCALE; no multiplier, no DSP).
//
// `x` is a signed X_W-bit number; `y` is signed, Y_W >= X_W + SCALE_W bits.
module fxhls_scale_const #(
    parameter integer X_W = 8,
    parameter integer SCALE_W = 8,
    parameter [SCALE_W-1:0] SCALE = 1,
    parameter integer Y_W = X_W + SCALE_W
) (
    input  wire signed [X_W-1:0] x,
    output reg  signed [Y_W-1:0] y
);
    reg signed [Y_W-1:0] extended;
    integer i;
    always @* begin
        extended = x;
        y = 0;
        for (i = 0; i < SCALE_W; i = i + 1)
            if (SCALE[i])
                y = y + (extended <<< i);
    end
endmodule
