// fxhls_multithreshold: the requantization of a float-scaled layer (the IR's MultiThreshold).
//
// A beat holds LANES of the C channels (C / LANES beats per pixel or vector, in channel
// order); lane i of the beat after g beats of a pixel is channel g*LANES + i. Channel c
// has L thresholds, THRESHOLDS[(c*L + k)*T_W +: T_W] (two's complement codes with the
// input's fractional bits), and a direction, RISING[c]. Its output code is BASE plus the
// number of thresholds the input reaches: x >= t where rising, x <= t where not. The
// output is registered (fxhls_stage).
module fxhls_multithreshold #(
    parameter integer C = 1,
    parameter integer LANES = 1,
    parameter integer X_W = 8,
    parameter integer X_SIGNED = 1,
    parameter integer L = 1,
    parameter integer T_W = 9,
    parameter [C*L*T_W-1:0] THRESHOLDS = 0,
    parameter [C-1:0] RISING = 0,
    parameter integer BASE = 0,
    parameter integer OUT_W = 8
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
    localparam integer CMP_W = (X_W + 1 > T_W ? X_W + 1 : T_W) + 1;
    localparam integer COUNT_W = $clog2(L + 1) + 1;

    // The channel group of the beat at the input.
    wire [GROUP_W-1:0] group;
    fxhls_channel_group #(.GROUPS(GROUPS), .GROUP_W(GROUP_W)) channel_group (
        .clk(clk), .rst_n(rst_n), .take(s_axis_tvalid && s_axis_tready), .group(group)
    );

    wire [LANES*OUT_W-1:0] result;
    genvar i;
    generate
        for (i = 0; i < LANES; i = i + 1) begin : g_lane
            wire [X_W-1:0] x_code = s_axis_tdata[i*X_W +: X_W];
            wire signed [CMP_W-1:0] x = $signed({{(CMP_W - X_W){X_SIGNED != 0 && x_code[X_W-1]}}, x_code});
            // The lane's thresholds and direction for each group, chosen by `group`.
            wire [L*T_W-1:0] rows [0:GROUPS-1];
            wire risings [0:GROUPS-1];
            genvar g;
            for (g = 0; g < GROUPS; g = g + 1) begin : g_group
                assign rows[g] = THRESHOLDS[(g*LANES + i)*L*T_W +: L*T_W];
                assign risings[g] = RISING[g*LANES + i];
            end
            wire [L*T_W-1:0] row = rows[group];
            wire rising = risings[group];
            reg [COUNT_W-1:0] count;
            reg signed [CMP_W-1:0] limit;
            integer k;
            always @* begin
                count = 0;
                for (k = 0; k < L; k = k + 1) begin
                    limit = $signed({{(CMP_W - T_W){row[k*T_W + T_W - 1]}}, row[k*T_W +: T_W]});
                    count = count + {{(COUNT_W - 1){1'b0}}, rising ? x >= limit : x <= limit};
                end
            end
            /* verilator lint_off WIDTH */
            assign result[i*OUT_W +: OUT_W] = BASE + count;
            /* verilator lint_on WIDTH */
        end
    endgenerate

    fxhls_stage #(.W(LANES*OUT_W)) stage (
        .clk(clk), .rst_n(rst_n),
        .s_axis_tdata(result), .s_axis_tvalid(s_axis_tvalid), .s_axis_tready(s_axis_tready),
        .m_axis_tdata(m_axis_tdata), .m_axis_tvalid(m_axis_tvalid), .m_axis_tready(m_axis_tready)
    );
endmodule
