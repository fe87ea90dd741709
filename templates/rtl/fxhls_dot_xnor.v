// The dot product of one beat of binarized values: 2 * popcount(x XNOR w) - SIMD.
//
// Lanes of `x` and `w` are one bit each, 1 meaning +1 and 0 meaning -1, so a lane's
// product is +1 where the bits agree and -1 where they differ.
module fxhls_dot_xnor #(
    parameter integer SIMD = 1,
    parameter integer DOT_W = 3  // at least $clog2(SIMD+1) + 2
) (
    input  wire [SIMD-1:0] x,
    input  wire [SIMD-1:0] w,
    output wire signed [DOT_W-1:0] dot
);
    localparam [DOT_W-1:0] LANES = SIMD[DOT_W-1:0];

    reg [DOT_W-1:0] agreeing;
    integer i;

    always @* begin
        agreeing = {DOT_W{1'b0}};
        for (i = 0; i < SIMD; i = i + 1)
            agreeing = agreeing + {{(DOT_W - 1){1'b0}}, x[i] ~^ w[i]};
    end

    assign dot = {agreeing[DOT_W-2:0], 1'b0} - LANES;
endmodule
