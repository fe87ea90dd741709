// fxhls_reduce: the maximum or the average of COUNT beats, lane by lane, for GROUPS
// interleaved groups of lanes; the pooling units' arithmetic.
//
// Beat j of the input belongs to group j mod GROUPS and is its ((j / GROUPS) mod COUNT)-th
// value; each group's COUNT-th value completes it and its result leaves as one beat:
// - after fxhls_window (CHANNEL_MAJOR), a window's KH*KW beats of one channel group
//   come one after the other: GROUPS = 1, COUNT = KH*KW (max and average pooling);
// - a (C, H, W) image in pixel order is C/SIMD groups of H*W values each: GROUPS =
//   C/SIMD, COUNT = H*W (global average pooling).
// KIND "max": the largest value, then the cast to the output type. KIND "avg": the
// exact sum times RECIP * 2**-RECIP_FRAC (1/COUNT as fxhls.fixed.reciprocal gives it;
// RECIP a non-negative code, multiplied by shifts and additions), then the cast.
module fxhls_reduce #(
    parameter KIND = "max",
    parameter integer SIMD = 1,
    parameter integer GROUPS = 1,
    parameter integer COUNT = 4,
    parameter integer X_W = 8,
    parameter integer X_FRAC = 0,
    parameter integer X_SIGNED = 1,
    parameter integer RECIP_W = 1,
    parameter [RECIP_W-1:0] RECIP = 1,
    parameter integer RECIP_FRAC = 0,
    parameter integer OUT_W = 8,
    parameter integer OUT_FRAC = 0,
    parameter integer OUT_SIGNED = 1,
    parameter OUT_ROUNDING = "AP_TRN",
    parameter OUT_OVERFLOW = "AP_WRAP"
) (
    input  wire clk,
    input  wire rst_n,
    input  wire [SIMD*X_W-1:0] s_axis_tdata,
    input  wire s_axis_tvalid,
    output wire s_axis_tready,
    output wire [SIMD*OUT_W-1:0] m_axis_tdata,
    output wire m_axis_tvalid,
    input  wire m_axis_tready
);
    /* verilator lint_off WIDTH */
    localparam IS_MAX = KIND == "max";  // one bit
    /* verilator lint_on WIDTH */
    localparam integer ACC_W = IS_MAX ? X_W + 1 : X_W + 1 + $clog2(COUNT);  // signed
    localparam integer GROUP_W = GROUPS > 1 ? $clog2(GROUPS) : 1;
    localparam integer INDEX_W = COUNT > 1 ? $clog2(COUNT) : 1;
    localparam integer PRODUCT_W = ACC_W + RECIP_W;

    reg [SIMD*ACC_W-1:0] partial [0:GROUPS-1];
    reg [GROUP_W-1:0] group;
    reg [INDEX_W-1:0] index;  // the beat's position in its group's run
    wire first = index == 0;
    wire last = index == COUNT - 1;

    wire stage_ready;
    assign s_axis_tready = !last || stage_ready;
    wire take = s_axis_tvalid && s_axis_tready;

    wire [SIMD*ACC_W-1:0] combined;
    wire [SIMD*OUT_W-1:0] result;
    genvar i;
    generate
        for (i = 0; i < SIMD; i = i + 1) begin : g_lane
            wire [X_W-1:0] x = s_axis_tdata[i*X_W +: X_W];
            wire signed [ACC_W-1:0] value = $signed({X_SIGNED != 0 && x[X_W-1], x});
            wire signed [ACC_W-1:0] so_far = partial[group][i*ACC_W +: ACC_W];
            wire signed [ACC_W-1:0] now;
            if (IS_MAX) begin : g_max
                assign now = first || value > so_far ? value : so_far;
                fxhls_cast #(
                    .IN_W(ACC_W), .IN_FRAC(X_FRAC), .IN_SIGNED(1),
                    .OUT_W(OUT_W), .OUT_FRAC(OUT_FRAC), .OUT_SIGNED(OUT_SIGNED),
                    .ROUNDING(OUT_ROUNDING), .OVERFLOW(OUT_OVERFLOW)
                ) to_out (.in(now), .out(result[i*OUT_W +: OUT_W]));
            end else begin : g_avg
                assign now = first ? value : so_far + value;
                wire signed [PRODUCT_W-1:0] product;
                fxhls_scale_const #(.X_W(ACC_W), .SCALE_W(RECIP_W), .SCALE(RECIP), .Y_W(PRODUCT_W)) times_recip (
                    .x(now), .y(product)
                );
                fxhls_cast #(
                    .IN_W(PRODUCT_W), .IN_FRAC(X_FRAC + RECIP_FRAC), .IN_SIGNED(1),
                    .OUT_W(OUT_W), .OUT_FRAC(OUT_FRAC), .OUT_SIGNED(OUT_SIGNED),
                    .ROUNDING(OUT_ROUNDING), .OVERFLOW(OUT_OVERFLOW)
                ) to_out (.in(product), .out(result[i*OUT_W +: OUT_W]));
            end
            assign combined[i*ACC_W +: ACC_W] = now;
        end
    endgenerate

    always @(posedge clk) begin
        if (take)
            partial[group] <= combined;
        if (!rst_n) begin
            group <= 0;
            index <= 0;
        end else if (take) begin
            group <= group == GROUPS - 1 ? 0 : group + 1'b1;
            if (group == GROUPS - 1)
                index <= last ? 0 : index + 1'b1;
        end
    end

    fxhls_stage #(.W(SIMD*OUT_W)) stage (
        .clk(clk), .rst_n(rst_n),
        .s_axis_tdata(result), .s_axis_tvalid(s_axis_tvalid && last), .s_axis_tready(stage_ready),
        .m_axis_tdata(m_axis_tdata), .m_axis_tvalid(m_axis_tvalid), .m_axis_tready(m_axis_tready)
    );
endmodule
