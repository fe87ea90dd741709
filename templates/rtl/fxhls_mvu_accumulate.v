// One accumulation step of fxhls_mvu: acc_next = acc + dot, aligned at the binary point.
//
// `acc` has ACC_FRAC fractional bits (two's complement when ACC_SIGNED), `dot` is a
// signed sum of products with DOT_FRAC. Without STEPWISE the sum wraps modulo
// 2**ACC_W (needs ACC_FRAC >= DOT_FRAC). With STEPWISE the exact sum is cast into the
// accumulator's type with ROUNDING and OVERFLOW, as C++ `acc += w * x` does.
module fxhls_mvu_accumulate #(
    parameter integer DOT_W = 18,
    parameter integer DOT_FRAC = 0,
    parameter integer ACC_W = 24,
    parameter integer ACC_FRAC = 0,
    parameter integer ACC_SIGNED = 1,
    parameter integer STEPWISE = 0,
    parameter ROUNDING = "AP_TRN",
    parameter OVERFLOW = "AP_WRAP"
) (
    input  wire [ACC_W-1:0] acc,
    input  wire signed [DOT_W-1:0] dot,
    output wire [ACC_W-1:0] acc_next
);
    generate
        if (STEPWISE != 0) begin : g_stepwise
            localparam integer SUM_FRAC = ACC_FRAC > DOT_FRAC ? ACC_FRAC : DOT_FRAC;
            localparam integer ACC_SHIFT = SUM_FRAC - ACC_FRAC;
            localparam integer DOT_SHIFT = SUM_FRAC - DOT_FRAC;
            localparam integer SUM_W = 1 + (ACC_W + 1 + ACC_SHIFT > DOT_W + DOT_SHIFT
                                            ? ACC_W + 1 + ACC_SHIFT : DOT_W + DOT_SHIFT);
            wire acc_negative = ACC_SIGNED != 0 && acc[ACC_W-1];
            wire signed [SUM_W-1:0] acc_wide = {{(SUM_W - ACC_W){acc_negative}}, acc};
            wire signed [SUM_W-1:0] dot_wide = {{(SUM_W - DOT_W){dot[DOT_W-1]}}, dot};
            wire signed [SUM_W-1:0] sum = (acc_wide <<< ACC_SHIFT) + (dot_wide <<< DOT_SHIFT);
            fxhls_cast #(
                .IN_W(SUM_W), .IN_FRAC(SUM_FRAC), .IN_SIGNED(1),
                .OUT_W(ACC_W), .OUT_FRAC(ACC_FRAC), .OUT_SIGNED(ACC_SIGNED),
                .ROUNDING(ROUNDING), .OVERFLOW(OVERFLOW)
            ) to_acc (.in(sum), .out(acc_next));
        end else begin : g_wrap
            wire signed [DOT_W+ACC_W-1:0] dot_wide = {{ACC_W{dot[DOT_W-1]}}, dot};
            wire [DOT_W+ACC_W-1:0] dot_aligned = dot_wide <<< (ACC_FRAC - DOT_FRAC);
            assign acc_next = acc + dot_aligned[ACC_W-1:0];
        end
    endgenerate
endmodule
