// fxhls_mul_shift: the requantization of a float-scaled layer by one multiply, an add and
// a shift per channel (the IR's MulShift).
//
// A beat holds LANES of the C channels (C / LANES beats per pixel or vector, in channel
// order); lane i of the beat after g beats of a pixel is channel g*LANES + i. Channel c
// has a multiplier MULTIPLIERS[c*M_W +: M_W] and a bias BIASES[c*SUM_W +: SUM_W] (two's
// complement integers) and bounds LOWS/HIGHS[c*OUT_W +: OUT_W] (output codes). Its output
// code is clamp(round((x * multiplier + bias) / 2^SHIFT), low, high), x the input's code:
// the exact product (fxhls_channel_scale), the exact sum, an fxhls_cast to an integer with ROUNDING, then the clamp. Then, where
// x lies in one of the channel's EXC_N exception ranges [first, last] (EXC_FIRSTS/
// EXC_LASTS[(c*EXC_SLOTS + k)*X_W +: X_W], codes of x; the ranges of a channel never
// overlap), the code takes the range's correction (EXC_CORRECTIONS[(c*EXC_SLOTS + k)*2
// +: 2], +1 or -1): two comparators a range and one add. The output is registered
// (fxhls_stage).
module fxhls_mul_shift #(
    parameter integer C = 1,
    parameter integer LANES = 1,
    parameter integer X_W = 8,
    parameter integer X_SIGNED = 1,
    parameter integer M_W = 8,
    parameter [C*M_W-1:0] MULTIPLIERS = 0,
    parameter integer SUM_W = 20,  // holds x * multiplier + bias
    parameter [C*SUM_W-1:0] BIASES = 0,
    parameter integer SHIFT = 0,
    parameter ROUNDING = "AP_TRN",
    parameter integer OUT_W = 8,
    parameter integer OUT_SIGNED = 1,
    parameter [C*OUT_W-1:0] LOWS = 0,
    parameter [C*OUT_W-1:0] HIGHS = 0,
    parameter integer EXC_N = 0,  // exception ranges per channel
    parameter [C*(EXC_N > 0 ? EXC_N : 1)*X_W-1:0] EXC_FIRSTS = 0,
    parameter [C*(EXC_N > 0 ? EXC_N : 1)*X_W-1:0] EXC_LASTS = 0,
    parameter [C*(EXC_N > 0 ? EXC_N : 1)*2-1:0] EXC_CORRECTIONS = 0
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
    localparam integer PROD_W = X_W + M_W + 3;
    localparam integer WIDE_W = PROD_W > SUM_W ? PROD_W : SUM_W;  // the sum before it is cut to SUM_W (exactly)
    localparam integer Q_W = SUM_W - SHIFT + 2;  // the rounded quotient, signed, with room for the increment
    localparam integer EXC_SLOTS = EXC_N > 0 ? EXC_N : 1;

    // The channel group of the beat at the input.
    wire [GROUP_W-1:0] group;
    fxhls_channel_group #(.GROUPS(GROUPS), .GROUP_W(GROUP_W)) channel_group (
        .clk(clk), .rst_n(rst_n), .take(s_axis_tvalid && s_axis_tready), .group(group)
    );

    // x times its channel's multiplier, on every lane.
    wire [LANES*PROD_W-1:0] products;
    fxhls_channel_scale #(
        .C(C), .LANES(LANES), .GROUP_W(GROUP_W), .X_W(X_W), .X_SIGNED(X_SIGNED), .KIND("mul"),
        .SCALE_W(M_W), .SCALE_SIGNED(1), .SCALES(MULTIPLIERS), .PROD_W(PROD_W)
    ) multiply (.x(s_axis_tdata), .group(group), .product(products));

    wire [LANES*OUT_W-1:0] result;
    genvar i;
    generate
        for (i = 0; i < LANES; i = i + 1) begin : g_lane
            // The lane's constants for each group, chosen by `group`.
            wire [SUM_W-1:0] biases [0:GROUPS-1];
            wire [OUT_W-1:0] lows [0:GROUPS-1];
            wire [OUT_W-1:0] highs [0:GROUPS-1];
            genvar g;
            for (g = 0; g < GROUPS; g = g + 1) begin : g_group
                assign biases[g] = BIASES[(g*LANES + i)*SUM_W +: SUM_W];
                assign lows[g] = LOWS[(g*LANES + i)*OUT_W +: OUT_W];
                assign highs[g] = HIGHS[(g*LANES + i)*OUT_W +: OUT_W];
            end
            wire signed [PROD_W-1:0] product = products[i*PROD_W +: PROD_W];
            wire signed [SUM_W-1:0] bias = biases[group];
            wire signed [WIDE_W-1:0] wide = $signed({{(WIDE_W - PROD_W){product[PROD_W-1]}}, product})
                                          + $signed({{(WIDE_W - SUM_W){bias[SUM_W-1]}}, bias});
            wire signed [SUM_W-1:0] sum = wide[SUM_W-1:0];
            wire signed [Q_W-1:0] quotient;
            fxhls_cast #(
                .IN_W(SUM_W), .IN_FRAC(SHIFT), .IN_SIGNED(1), .OUT_W(Q_W), .OUT_FRAC(0), .OUT_SIGNED(1),
                .ROUNDING(ROUNDING), .OVERFLOW("AP_WRAP")
            ) shift (.in(sum), .out(quotient));
            wire [OUT_W-1:0] low_code = lows[group];
            wire [OUT_W-1:0] high_code = highs[group];
            wire signed [Q_W-1:0] low = $signed({{(Q_W - OUT_W){OUT_SIGNED != 0 && low_code[OUT_W-1]}}, low_code});
            wire signed [Q_W-1:0] high = $signed({{(Q_W - OUT_W){OUT_SIGNED != 0 && high_code[OUT_W-1]}}, high_code});
            wire signed [Q_W-1:0] clamped = quotient < low ? low : (quotient > high ? high : quotient);
            // The exceptions: raise[k] / lower[k] where x lies in range k and its correction is +1 / -1
            // (the ranges never overlap: at most one is set).
            wire [X_W-1:0] x_code = s_axis_tdata[i*X_W +: X_W];
            wire signed [X_W:0] x = $signed({X_SIGNED != 0 && x_code[X_W-1], x_code});
            wire [EXC_SLOTS-1:0] raise, lower;
            genvar k;
            for (k = 0; k < EXC_SLOTS; k = k + 1) begin : g_exception
                wire [X_W-1:0] first_code [0:GROUPS-1];
                wire [X_W-1:0] last_code [0:GROUPS-1];
                wire [1:0] correction [0:GROUPS-1];
                for (g = 0; g < GROUPS; g = g + 1) begin : g_group
                    assign first_code[g] = EXC_FIRSTS[((g*LANES + i)*EXC_SLOTS + k)*X_W +: X_W];
                    assign last_code[g] = EXC_LASTS[((g*LANES + i)*EXC_SLOTS + k)*X_W +: X_W];
                    assign correction[g] = EXC_CORRECTIONS[((g*LANES + i)*EXC_SLOTS + k)*2 +: 2];
                end
                wire [X_W-1:0] first = first_code[group];
                wire [X_W-1:0] last = last_code[group];
                wire signed [X_W:0] first_value = $signed({X_SIGNED != 0 && first[X_W-1], first});
                wire signed [X_W:0] last_value = $signed({X_SIGNED != 0 && last[X_W-1], last});
                wire hit = EXC_N > 0 && x >= first_value && x <= last_value;
                assign raise[k] = hit && correction[group] == 2'b01;
                assign lower[k] = hit && correction[group] == 2'b11;
            end
            wire signed [Q_W-1:0] up = {{(Q_W - 1){1'b0}}, |raise};
            wire signed [Q_W-1:0] down = {{(Q_W - 1){1'b0}}, |lower};
            wire signed [Q_W-1:0] corrected = clamped + up - down;
            assign result[i*OUT_W +: OUT_W] = corrected[OUT_W-1:0];
        end
    endgenerate

    fxhls_stage #(.W(LANES*OUT_W)) stage (
        .clk(clk), .rst_n(rst_n),
        .s_axis_tdata(result), .s_axis_tvalid(s_axis_tvalid), .s_axis_tready(s_axis_tready),
        .m_axis_tdata(m_axis_tdata), .m_axis_tvalid(m_axis_tvalid), .m_axis_tready(m_axis_tready)
    );
endmodule
