// fxhls_pack: the accelerator's output side: beats of B values to 64-bit stream words
// (the stream format: fxhls/deploy/packing.py).
//
// In: a sample's VALUES values (X_W bits each, two's complement when X_SIGNED) in order,
// B per beat, and per sample one beat on `last_axis` (from fxhls_unpack: did the sample's
// last input word carry TLAST?). Out: the values as codes in lanes of LANE bits (sign- or
// zero-extended), 64/LANE per word, each sample on fresh words, its last word padded with
// zero lanes and carrying TLAST exactly when its `last_axis` beat is 1.
//
// The values wait in a buffer of 64/LANE + 2B slots; a beat is taken while at most
// 64/LANE + B are held, so a beat enters every clock (or a word leaves every clock, when
// B > 64/LANE); the next sample's first beat enters no earlier than the clock in which
// the last word of this one leaves, so a sample takes no clock beyond its beats or words.
module fxhls_pack #(
    parameter integer VALUES = 8,
    parameter integer LANE = 8,
    parameter integer X_W = 8,
    parameter integer X_SIGNED = 1,
    parameter integer B = 1
) (
    input  wire clk,
    input  wire rst_n,
    input  wire [B*X_W-1:0] s_axis_tdata,
    input  wire s_axis_tvalid,
    output wire s_axis_tready,
    input  wire [0:0] last_axis_tdata,
    input  wire last_axis_tvalid,
    output wire last_axis_tready,
    output wire [63:0] m_axis_tdata,
    output wire m_axis_tvalid,
    input  wire m_axis_tready,
    output wire m_axis_tlast
);
    localparam integer P = 64 / LANE;  // lanes per word
    localparam integer CAP = P + 2 * B;
    localparam integer COUNT_W = $clog2(CAP + 1);
    localparam integer RECEIVED_W = $clog2(VALUES + 1);
    /* verilator lint_off WIDTHTRUNC */
    localparam [COUNT_W-1:0] BEAT = B, FULL_WORD = P, ROOM = P + B;  // all fit their widths
    localparam [RECEIVED_W-1:0] SAMPLE = VALUES, BEAT_VALUES = B;
    /* verilator lint_on WIDTHTRUNC */

    reg [CAP*X_W-1:0] slots;  // value j at [j*X_W +: X_W]; `count` of them held
    reg [COUNT_W-1:0] count;
    reg [RECEIVED_W-1:0] received;  // values of the sample taken so far

    wire complete = received == SAMPLE;
    wire final_word = complete && count <= FULL_WORD;  // the word that ends the sample
    assign m_axis_tvalid = count != 0 && (final_word ? last_axis_tvalid : count >= FULL_WORD);
    assign m_axis_tlast = final_word && last_axis_tdata[0];
    wire emit = m_axis_tvalid && m_axis_tready;
    assign last_axis_tready = final_word && count != 0 && m_axis_tready;

    wire sample_sent = emit && final_word;
    assign s_axis_tready = (!complete || sample_sent) && count <= ROOM;
    wire take = s_axis_tvalid && s_axis_tready;

    genvar i;
    generate
        for (i = 0; i < P; i = i + 1) begin : g_lane
            wire [X_W-1:0] code = slots[i*X_W +: X_W];
            wire [LANE+X_W-1:0] extended = {{LANE{X_SIGNED != 0 && code[X_W-1]}}, code};
            assign m_axis_tdata[i*LANE +: LANE] = i < count ? extended[LANE-1:0] : {LANE{1'b0}};
        end
    endgenerate

    wire [COUNT_W-1:0] kept = !emit ? count : count > FULL_WORD ? count - FULL_WORD : {COUNT_W{1'b0}};
    // Value b of a taken beat goes to slot kept + b (compared, not computed: an index
    // times X_W would be a multiplier).
    reg [CAP*X_W-1:0] next_slots;
    integer j, b;
    always @* begin
        next_slots = emit ? slots >> (P * X_W) : slots;
        for (j = 0; j < CAP; j = j + 1)
            for (b = 0; b < B; b = b + 1)
                if (take && j == kept + b)
                    next_slots[j*X_W +: X_W] = s_axis_tdata[b*X_W +: X_W];
    end

    always @(posedge clk) begin
        slots <= next_slots;
        if (!rst_n) begin
            count <= 0;
            received <= 0;
        end else begin
            count <= kept + (take ? BEAT : {COUNT_W{1'b0}});
            if (sample_sent)
                received <= take ? BEAT_VALUES : {RECEIVED_W{1'b0}};
            else if (take)
                received <= received + BEAT_VALUES;
        end
    end
endmodule
