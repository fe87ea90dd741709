// fxhls_prelu: per channel x where x >= 0, else x * scale (LeakyRelu, PRelu; the IR's
// PRelu op), exact, then the cast to the output type.
//
// Beats and channels as in fxhls_affine (LANES of the C channels per beat, C / LANES beats
// per pixel or vector). Channel c's slope (its "scale": KIND "mul", SCALES, or "khot",
// TERMS) is multiplied as in fxhls_affine, by fxhls_channel_scale.
// Both sides are aligned on the finer grid (X_FRAC or X_FRAC + SCALE_FRAC fractional
// bits), the sign of x chooses one, and it is cast. The output is registered (fxhls_stage);
// with PIPELINE 1 the products and x are too (a clock more latency, none of interval), so
// the K-hot shift-add and the choice with its cast each get a clock of LUT levels.
module fxhls_prelu #(
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
    localparam integer VALUE_FRAC = PROD_FRAC > X_FRAC ? PROD_FRAC : X_FRAC;
    localparam integer VALUE_W = 1 + (PROD_W + VALUE_FRAC - PROD_FRAC > X_W + 1 + VALUE_FRAC - X_FRAC
                                      ? PROD_W + VALUE_FRAC - PROD_FRAC : X_W + 1 + VALUE_FRAC - X_FRAC);

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
    ) slope (.x(s_axis_tdata), .group(group), .product(products));

    // The products and the inputs, registered where PIPELINE is 1.
    wire [LANES*(PROD_W+X_W)-1:0] held;
    wire held_valid, held_ready;
    fxhls_pipeline_stage #(.W(LANES*(PROD_W+X_W)), .REGISTER(PIPELINE)) products_stage (
        .clk(clk), .rst_n(rst_n),
        .s_axis_tdata({s_axis_tdata, products}), .s_axis_tvalid(s_axis_tvalid), .s_axis_tready(s_axis_tready),
        .m_axis_tdata(held), .m_axis_tvalid(held_valid), .m_axis_tready(held_ready)
    );

    wire [LANES*OUT_W-1:0] result;
    genvar i;
    generate
        for (i = 0; i < LANES; i = i + 1) begin : g_lane
            wire [X_W-1:0] x = held[LANES*PROD_W + i*X_W +: X_W];
            wire signed [PROD_W-1:0] product = held[i*PROD_W +: PROD_W];
            wire negative = X_SIGNED != 0 && x[X_W-1];
            wire signed [X_W:0] x_value = $signed({X_SIGNED != 0 && x[X_W-1], x});
            wire signed [VALUE_W-1:0] value = negative ? product <<< (VALUE_FRAC - PROD_FRAC)
                                                       : x_value <<< (VALUE_FRAC - X_FRAC);
            fxhls_cast #(
                .IN_W(VALUE_W), .IN_FRAC(VALUE_FRAC), .IN_SIGNED(1),
                .OUT_W(OUT_W), .OUT_FRAC(OUT_FRAC), .OUT_SIGNED(OUT_SIGNED),
                .ROUNDING(OUT_ROUNDING), .OVERFLOW(OUT_OVERFLOW)
            ) to_out (.in(value), .out(result[i*OUT_W +: OUT_W]));
        end
    endgenerate

    fxhls_stage #(.W(LANES*OUT_W)) stage (
        .clk(clk), .rst_n(rst_n),
        .s_axis_tdata(result), .s_axis_tvalid(held_valid), .s_axis_tready(held_ready),
        .m_axis_tdata(m_axis_tdata), .m_axis_tvalid(m_axis_tvalid), .m_axis_tready(m_axis_tready)
    );
endmodule
