// fxhls_threshold: the IR's Threshold op (a binary activation from per-channel
// comparisons): channel c gives +1 where x >= its threshold (rising) or x <= it
// (falling), else -1.
//
// A beat holds LANES of the C channels (C / LANES beats per pixel or vector, in channel
// order); lane i of the beat after g beats of a pixel is channel g*LANES + i. Channel c's
// threshold is LIMITS[c*LIMIT_W +: LIMIT_W], a signed code on x's grid (LIMIT_W = X_W + 2
// bits): for a rising channel the least code at or above the threshold, for a falling one
// the greatest at or below it, clamped just outside x's codes (fxhls.rtl.top_parameters),
// so comparing codes is exact. DIRECTIONS[c] is 1 for rising. Out: one bit per lane, 1
// meaning +1 (as fxhls_sign). The output is registered (fxhls_stage).
module fxhls_threshold #(
    parameter integer C = 1,
    parameter integer LANES = 1,
    parameter integer X_W = 8,
    parameter integer X_SIGNED = 1,
    parameter integer LIMIT_W = X_W + 2,
    parameter [C*LIMIT_W-1:0] LIMITS = 0,
    parameter [C-1:0] DIRECTIONS = 0
) (
    input  wire clk,
    input  wire rst_n,
    input  wire [LANES*X_W-1:0] s_axis_tdata,
    input  wire s_axis_tvalid,
    output wire s_axis_tready,
    output wire [LANES-1:0] m_axis_tdata,
    output wire m_axis_tvalid,
    input  wire m_axis_tready
);
    localparam integer GROUPS = C / LANES;
    localparam integer GROUP_W = GROUPS > 1 ? $clog2(GROUPS) : 1;

    // The channel group of the beat at the input.
    reg [GROUP_W-1:0] group;
    wire take = s_axis_tvalid && s_axis_tready;
    always @(posedge clk) begin
        if (!rst_n || (take && group == GROUPS - 1))
            group <= 0;
        else if (take)
            group <= group + 1'b1;
    end

    wire [LANES-1:0] plus;
    genvar i;
    generate
        for (i = 0; i < LANES; i = i + 1) begin : g_lane
            wire [X_W-1:0] x = s_axis_tdata[i*X_W +: X_W];
            wire signed [X_W:0] value = $signed({X_SIGNED != 0 && x[X_W-1], x});
            // The lane's constants for each group, chosen by `group` (a multiplexer).
            wire [LIMIT_W-1:0] limits [0:GROUPS-1];
            wire rising [0:GROUPS-1];
            genvar g;
            for (g = 0; g < GROUPS; g = g + 1) begin : g_group
                assign limits[g] = LIMITS[(g*LANES + i)*LIMIT_W +: LIMIT_W];
                assign rising[g] = DIRECTIONS[g*LANES + i];
            end
            wire signed [LIMIT_W-1:0] limit = $signed(limits[group]);
            assign plus[i] = rising[group] ? value >= limit : value <= limit;
        end
    endgenerate

    fxhls_stage #(.W(LANES)) stage (
        .clk(clk), .rst_n(rst_n),
        .s_axis_tdata(plus), .s_axis_tvalid(s_axis_tvalid), .s_axis_tready(s_axis_tready),
        .m_axis_tdata(m_axis_tdata), .m_axis_tvalid(m_axis_tvalid), .m_axis_tready(m_axis_tready)
    );
endmodule
