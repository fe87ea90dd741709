// The dot product of one beat with K-hot weights: shifts and additions, no multiplier.
//
// A K-hot weight is a sum of at most K signed powers of two. Lane i of `w` holds its
// K terms, term k at bits [(i*K+k)*TERM_W +: TERM_W] as {used, negative, shift}
// (shift: SHIFT_W bits): the term adds (or subtracts) x << shift. `x` lanes are as in
// fxhls_dot_mul. `dot` is the exact sum, its lsb weighing 2**-(x frac bits) times
// 2**-(the shift that stands for a weight of 1, chosen by the caller).
module fxhls_dot_khot #(
    parameter integer SIMD = 1,
    parameter integer X_W = 8,
    parameter integer X_SIGNED = 1,
    parameter integer X_BINARY = 0,
    parameter integer K = 1,
    parameter integer SHIFT_W = 3,
    parameter integer DOT_W = 18  // at least X_W + 2**SHIFT_W + 2 + $clog2(SIMD*K)
) (
    input  wire [SIMD*X_W-1:0] x,
    input  wire [SIMD*K*(SHIFT_W+2)-1:0] w,
    output reg signed [DOT_W-1:0] dot
);
    localparam integer TERM_W = SHIFT_W + 2;

    reg signed [DOT_W-1:0] value;  // a lane's value, sign-extended (-1 or +1 when binary)
    reg [TERM_W-1:0] term;
    integer i, k;

    always @* begin
        dot = {DOT_W{1'b0}};
        for (i = 0; i < SIMD; i = i + 1) begin
            if (X_BINARY != 0)
                value = {{(DOT_W - 1){~x[i]}}, 1'b1};
            else
                value = {{(DOT_W - X_W){X_SIGNED != 0 && x[i*X_W+X_W-1]}}, x[i*X_W +: X_W]};
            for (k = 0; k < K; k = k + 1) begin
                term = w[(i*K+k)*TERM_W +: TERM_W];
                if (term[TERM_W-1])
                    dot = term[TERM_W-2] ? dot - (value <<< term[SHIFT_W-1:0])
                                         : dot + (value <<< term[SHIFT_W-1:0]);
            end
        end
    end
endmodule
