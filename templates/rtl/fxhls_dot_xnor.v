// The dot product of one beat of binarized values: 2 * popcount(x XNOR w) - SIMD.
//
// Lanes of `x` and `w` are one bit each, 1 meaning +1 and 0 meaning -1, so a lane's
// product is +1 where the bits agree and -1 where they differ.
module fxhls_dot_xnor #(
    parameter integer SIMD = 1,
    parameter integer DOT_W = 4  // at least $clog2(SIMD) + 3
) (
    input  wire [SIMD-1:0] x,
    input  wire [SIMD-1:0] w,
    output wire signed [DOT_W-1:0] dot
);
    localparam [DOT_W-1:0] LANES = SIMD[DOT_W-1:0];
    localparam integer COUNT_W = 1 + $clog2(SIMD);

    wire [COUNT_W-1:0] agreeing;
    fxhls_adder_tree #(.N(SIMD), .W(1), .SIGNED(0)) popcount (.terms(x ~^ w), .sum(agreeing));
    assign dot = {{(DOT_W - COUNT_W - 1){1'b0}}, agreeing, 1'b0} - LANES;
endmodule
