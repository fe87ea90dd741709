// fxhls_affine: per channel x * scale + bias, exact, then the cast to the output type
// (the fixed-point BatchNorm; the IR's Affine op).
//
// A beat holds LANES of the C channels (C / LANES beats per pixel or vector, in channel
// order); lane i of the beat after g beats of a pixel is channel g*LANES + i. Channel
// c's constants: BIASES[c*BIAS_W +: BIAS_W] (a code with BIAS_FRAC fractional bits) and its
// scale, KIND "mul" (SCALES) or "khot" (TERMS), multiplied as fxhls_channel_scale says.
// The product (X_FRAC + SCALE_FRAC fractional bits) and the bias are added exactly,
// then cast. The output is registered (fxhls_stage); with PIPELINE 1 the products and
// their biases are too (a clock more latency, none of interval), so the K-hot shift-add
// and the sum with its cast each get a clock of LUT levels.
module fxhls_affine #(
    parameter integer C = 1,
    parameter integer LANES = 1,
    parameter integer X_W = 8,
    parameter integer X_FRAC = 0,
    parameter integer X_SIGNED = 1,
    parameter KIND = "mul",
    parameter integer SCALE_W = 8,
    parameter integer SCALE_FRAC = 0,
    parameter integer SCALE_SIGNED = 1,
    parameter [C*SCALE_W-1:0] SCALES = 0,
    parameter integer K = 1,
    parameter integer SHIFT_W = 3,
    parameter [C*K*(SHIFT_W+2)-1:0] TERMS = 0,
    parameter integer BIAS_W = 8,
    parameter integer BIAS_FRAC = 0,
    parameter integer BIAS_SIGNED = 1,
    parameter [C*BIAS_W-1:0] BIASES = 0,
    parameter integer OUT_W = 8,
    parameter integer OUT_FRAC = 0,
    parameter integer OUT_SIGNED = 1,
    parameter OUT_ROUNDING = "AP_TRN",
    parameter OUT_OVERFLOW = "AP_WRAP",
    parameter integer PIPELINE = 0
) (
    input  wire clk,
    input  wire rst_n,
    input  wire [LANES*X_W-1:0] s_axis_tdata,
    input  wire s_axis_tvalid,
    output wire s_axis_tready,
    output wire [LANES*OUT_W-1:0] m_axis_tdata,
    output wire m_axis_tvalid,
    input  wire m_axis_tready
);
    localparam integer GROUPS = C / LANES;
    localparam integer GROUP_W = GROUPS > 1 ? $clog2(GROUPS) : 1;
    localparam integer MUL_W = X_W + SCALE_W + 3;
    localparam integer KHOT_W = X_W + (1 << SHIFT_W) + 3 + $clog2(K);
    /* verilator lint_off WIDTH */
    localparam USE_KHOT = KIND == "khot";  // one bit
    /* verilator lint_on WIDTH */
    localparam integer PROD_W = USE_KHOT ? KHOT_W : MUL_W;
    localparam integer PROD_FRAC = X_FRAC + SCALE_FRAC;
    localparam integer SUM_FRAC = PROD_FRAC > BIAS_FRAC ? PROD_FRAC : BIAS_FRAC;
    localparam integer SUM_W = 1 + (PROD_W + SUM_FRAC - PROD_FRAC > BIAS_W + 1 + SUM_FRAC - BIAS_FRAC
                                    ? PROD_W + SUM_FRAC - PROD_FRAC : BIAS_W + 1 + SUM_FRAC - BIAS_FRAC);

    // The channel group of the beat at the input.
    wire [GROUP_W-1:0] group;
    fxhls_channel_group #(.GROUPS(GROUPS), .GROUP_W(GROUP_W)) channel_group (
        .clk(clk), .rst_n(rst_n), .take(s_axis_tvalid && s_axis_tready), .group(group)
    );

    wire [LANES*PROD_W-1:0] products;
    fxhls_channel_scale #(
        .C(C), .LANES(LANES), .GROUP_W(GROUP_W), .X_W(X_W), .X_SIGNED(X_SIGNED), .KIND(KIND),
        .SCALE_W(SCALE_W), .SCALE_SIGNED(SCALE_SIGNED), .SCALES(SCALES), .K(K), .SHIFT_W(SHIFT_W), .TERMS(TERMS),
        .PROD_W(PROD_W)
    ) scale (.x(s_axis_tdata), .group(group), .product(products));

    // Each lane's bias, chosen by `group` (a multiplexer), beside its product.
    wire [LANES*(PROD_W+BIAS_W)-1:0] scaled;
    genvar i;
    generate
        for (i = 0; i < LANES; i = i + 1) begin : g_bias
            wire [BIAS_W-1:0] biases [0:GROUPS-1];
            genvar g;
            for (g = 0; g < GROUPS; g = g + 1) begin : g_group
                assign biases[g] = BIASES[(g*LANES + i)*BIAS_W +: BIAS_W];
            end
            assign scaled[i*(PROD_W+BIAS_W) +: PROD_W+BIAS_W] = {biases[group], products[i*PROD_W +: PROD_W]};
        end
    endgenerate

    // The products and biases, registered where PIPELINE is 1.
    wire [LANES*(PROD_W+BIAS_W)-1:0] held;
    wire held_valid, held_ready;
    fxhls_pipeline_stage #(.W(LANES*(PROD_W+BIAS_W)), .REGISTER(PIPELINE)) products_stage (
        .clk(clk), .rst_n(rst_n),
        .s_axis_tdata(scaled), .s_axis_tvalid(s_axis_tvalid), .s_axis_tready(s_axis_tready),
        .m_axis_tdata(held), .m_axis_tvalid(held_valid), .m_axis_tready(held_ready)
    );

    wire [LANES*OUT_W-1:0] result;
    generate
        for (i = 0; i < LANES; i = i + 1) begin : g_lane
            wire signed [PROD_W-1:0] product = held[i*(PROD_W+BIAS_W) +: PROD_W];
            wire [BIAS_W-1:0] bias = held[i*(PROD_W+BIAS_W) + PROD_W +: BIAS_W];
            wire signed [BIAS_W:0] bias_value = $signed({BIAS_SIGNED != 0 && bias[BIAS_W-1], bias});
            wire signed [SUM_W-1:0] sum = (product <<< (SUM_FRAC - PROD_FRAC)) + (bias_value <<< (SUM_FRAC - BIAS_FRAC));
            fxhls_cast #(
                .IN_W(SUM_W), .IN_FRAC(SUM_FRAC), .IN_SIGNED(1),
                .OUT_W(OUT_W), .OUT_FRAC(OUT_FRAC), .OUT_SIGNED(OUT_SIGNED),
                .ROUNDING(OUT_ROUNDING), .OVERFLOW(OUT_OVERFLOW)
            ) to_out (.in(sum), .out(result[i*OUT_W +: OUT_W]));
        end
    endgenerate

    fxhls_stage #(.W(LANES*OUT_W)) stage (
        .clk(clk), .rst_n(rst_n),
        .s_axis_tdata(result), .s_axis_tvalid(held_valid), .s_axis_tready(held_ready),
        .m_axis_tdata(m_axis_tdata), .m_axis_tvalid(m_axis_tvalid), .m_axis_tready(m_axis_tready)
    );
endmodule
