// One neuron's dot product over one beat of fxhls_mvu, by the kind of its weights: "mul"
// (multipliers, fxhls_mul_products), "khot" (shift-add, fxhls_khot_products) or "xnor"
// (binarized: +1 where the bits of x and w agree, -1 where they differ). Lanes of `x`
// and `w` as in those modules. The lanes are GROUPS equal groups, group g contributing
// nothing where `padding[g]` is set (a tap of a convolution's window in the padding).
//
// STAGE = 0: `dot` is the sum of this beat, combinationally. STAGE > 0: pipelined, the
// products registered and then every STAGE levels of the lanes' adder tree
// (fxhls_adder_tree): `dot` is the sum of the beat given REGS clocks with `en` before,
// REGS = ceil($clog2(SIMD) / STAGE).
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
    parameter integer DOT_W = 24,
    parameter integer GROUPS = 1,
    parameter integer STAGE = 0,
    // derived: the registers a beat passes
    parameter integer REGS = STAGE > 0 ? ($clog2(SIMD) + STAGE - 1) / STAGE : 0
) (
    input  wire clk,
    input  wire en,
    input  wire [SIMD*X_W-1:0] x,
    input  wire [SIMD*W_W-1:0] w,
    input  wire [GROUPS-1:0] padding,
    output wire signed [DOT_W-1:0] dot
);
    localparam integer GROUP_LANES = SIMD / GROUPS;
    localparam integer MUL_W = X_W + W_W + 3;  // fxhls_mul_products's PRODUCT_W
    localparam integer KHOT_W = X_W + 2 + (1 << SHIFT_W) + $clog2(K);  // fxhls_khot_products's LANE_W

    // A lane is kept unless its group's padding flag is set.
    wire [SIMD-1:0] kept;
    genvar i;
    generate
        for (i = 0; i < SIMD; i = i + 1) begin : g_kept
            assign kept[i] = !padding[i / GROUP_LANES];
        end
    endgenerate

    // (KIND is compared with names of other lengths: no width defect.)
    /* verilator lint_off WIDTHEXPAND */
    generate
        if (KIND == "xnor") begin : g_xnor
            // 2 * (kept lanes that agree) - (kept lanes); the kept lanes follow the tree's registers.
            localparam integer COUNT_W = 1 + $clog2(SIMD);
            wire [COUNT_W-1:0] agreeing;
            fxhls_adder_tree #(.N(SIMD), .W(1), .SIGNED(0), .STAGE(STAGE)) popcount (
                .clk(clk), .en(en), .terms((x ~^ w) & kept), .sum(agreeing)
            );
            localparam [COUNT_W-1:0] GROUP_COUNT = GROUP_LANES[COUNT_W-1:0];
            reg [COUNT_W-1:0] kept_lanes;
            integer g;
            always @* begin
                kept_lanes = {COUNT_W{1'b0}};
                for (g = 0; g < GROUPS; g = g + 1)
                    if (!padding[g]) kept_lanes = kept_lanes + GROUP_COUNT;
            end
            wire [COUNT_W-1:0] kept_later;
            fxhls_delay #(.W(COUNT_W), .D(REGS)) kept_delay (.clk(clk), .en(en), .in(kept_lanes), .out(kept_later));
            assign dot = {{(DOT_W - COUNT_W - 1){1'b0}}, agreeing, 1'b0} - {{(DOT_W - COUNT_W){1'b0}}, kept_later};
        end else begin : g_products
            localparam integer PRODUCT_W = KIND == "khot" ? KHOT_W : MUL_W;
            localparam integer SUM_W = PRODUCT_W + $clog2(SIMD);
            wire [SIMD*PRODUCT_W-1:0] products;
            if (KIND == "khot") begin : g_khot
                fxhls_khot_products #(
                    .SIMD(SIMD), .X_W(X_W), .X_SIGNED(X_SIGNED), .X_BINARY(X_BINARY), .K(K), .SHIFT_W(SHIFT_W)
                ) lanes (.x(x), .w(w), .products(products));
            end else begin : g_mul
                fxhls_mul_products #(
                    .SIMD(SIMD), .X_W(X_W), .X_SIGNED(X_SIGNED), .X_BINARY(X_BINARY), .W_W(W_W), .W_SIGNED(W_SIGNED)
                ) lanes (.x(x), .w(w), .products(products));
            end
            wire [SIMD*PRODUCT_W-1:0] kept_products;
            for (i = 0; i < SIMD; i = i + 1) begin : g_keep
                assign kept_products[i*PRODUCT_W +: PRODUCT_W] = kept[i] ? products[i*PRODUCT_W +: PRODUCT_W]
                                                                          : {PRODUCT_W{1'b0}};
            end
            wire [SUM_W-1:0] sum;
            fxhls_adder_tree #(.N(SIMD), .W(PRODUCT_W), .STAGE(STAGE)) tree (
                .clk(clk), .en(en), .terms(kept_products), .sum(sum)
            );
            assign dot = {{(DOT_W - SUM_W){sum[SUM_W-1]}}, sum};
        end
    endgenerate
    /* verilator lint_on WIDTHEXPAND */
endmodule
