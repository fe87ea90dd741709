// fxhls_unpack: the accelerator's input side: 64-bit stream words (the stream format: fxhls/deploy/packing.py)
// to beats of B values.
//
// A sample is VALUES values, X_W bits each, sent as codes in lanes of LANE bits (8, 16 or
// 32; 64/LANE lanes per word, lane i at [i*LANE +: LANE], sign- or zero-extended), starting
// on a fresh word, its last word padded. Out: the values in order, B per beat (VALUES a
// multiple of B), lane i of a beat at [i*X_W +: X_W]. Samples are found by counting words,
// never by TLAST; the TLAST of each sample's last word leaves as one beat on `last_axis`,
// for fxhls_pack to put on the sample's last output word.
//
// The values wait in a buffer of 64/LANE + 2B slots; a word is taken while at most 2B
// are held, so a beat leaves every clock (or a word enters every clock, when B > 64/LANE).
module fxhls_unpack #(
    parameter integer VALUES = 8,
    parameter integer LANE = 8,
    parameter integer X_W = 8,
    parameter integer B = 1
) (
    input  wire clk,
    input  wire rst_n,
    input  wire [63:0] s_axis_tdata,
    input  wire s_axis_tvalid,
    output wire s_axis_tready,
    input  wire s_axis_tlast,
    output wire [B*X_W-1:0] m_axis_tdata,
    output wire m_axis_tvalid,
    input  wire m_axis_tready,
    output wire [0:0] last_axis_tdata,
    output wire last_axis_tvalid,
    input  wire last_axis_tready
);
    localparam integer P = 64 / LANE;                   // lanes per word
    localparam integer WORDS = (VALUES + P - 1) / P;    // words per sample
    localparam integer TAIL = VALUES - (WORDS - 1) * P; // values in a sample's last word
    localparam integer CAP = P + 2 * B;
    localparam integer COUNT_W = $clog2(CAP + 1);
    localparam integer WORD_W = WORDS > 1 ? $clog2(WORDS) : 1;
    /* verilator lint_off WIDTHTRUNC */
    localparam [COUNT_W-1:0] BEAT = B, ROOM = 2 * B, FULL_WORD = P, TAIL_WORD = TAIL;  // all fit COUNT_W
    localparam [WORD_W-1:0] LAST_WORD = WORDS - 1;
    /* verilator lint_on WIDTHTRUNC */

    reg [CAP*X_W-1:0] slots;  // value j at [j*X_W +: X_W]; `count` of them held
    reg [COUNT_W-1:0] count;
    reg [WORD_W-1:0] word;     // the next word's index in its sample

    wire last_word = word == LAST_WORD;
    wire room = count <= ROOM;
    assign s_axis_tready = room && (!last_word || last_axis_tready);
    assign last_axis_tvalid = s_axis_tvalid && room && last_word;
    assign last_axis_tdata = s_axis_tlast;
    wire take = s_axis_tvalid && s_axis_tready;

    assign m_axis_tvalid = count >= BEAT;
    assign m_axis_tdata = slots[B*X_W-1:0];
    wire emit = m_axis_tvalid && m_axis_tready;

    wire [COUNT_W-1:0] kept = emit ? count - BEAT : count;
    wire [COUNT_W-1:0] arriving = !take ? {COUNT_W{1'b0}} : last_word ? TAIL_WORD : FULL_WORD;

    reg [CAP*X_W-1:0] next_slots;
    integer j;
    always @* begin
        next_slots = emit ? slots >> (B * X_W) : slots;
        for (j = 0; j < CAP; j = j + 1)
            if (j >= kept && j < kept + arriving)
                next_slots[j*X_W +: X_W] = s_axis_tdata[(j - kept) * LANE +: X_W];
    end

    always @(posedge clk) begin
        slots <= next_slots;
        if (!rst_n) begin
            count <= 0;
            word <= 0;
        end else begin
            count <= kept + arriving;
            if (take)
                word <= last_word ? {WORD_W{1'b0}} : word + 1'b1;
        end
    end
endmodule
