// fxhls_regroup: a width converter between two streams of the same values, IN lanes
// per input beat to OUT lanes per output beat (W bits each, lane i at [i*W +: W]).
//
// Values keep their order; beats are regrouped only (a stage of the generated top
// between layers whose beats hold different numbers of values). The values wait in a
// buffer of IN + OUT slots, the oldest at slot 0, slots past the fill level held at
// zero; an output beat leaves when OUT values are held, an input beat is taken while
// at most OUT are held. One beat per clock flows on the side with more lanes per beat.
module fxhls_regroup #(
    parameter integer W = 8,
    parameter integer IN = 1,
    parameter integer OUT = 1
) (
    input  wire clk,
    input  wire rst_n,
    input  wire [IN*W-1:0] s_axis_tdata,
    input  wire s_axis_tvalid,
    output wire s_axis_tready,
    output wire [OUT*W-1:0] m_axis_tdata,
    output wire m_axis_tvalid,
    input  wire m_axis_tready
);
    localparam integer SLOTS = IN + OUT;
    localparam integer COUNT_W = $clog2(SLOTS + 1);
    /* verilator lint_off WIDTHTRUNC */
    localparam [COUNT_W-1:0] IN_COUNT = IN;  // all fit COUNT_W bits
    localparam [COUNT_W-1:0] OUT_COUNT = OUT;
    /* verilator lint_on WIDTHTRUNC */

    reg [SLOTS*W-1:0] held;
    reg [COUNT_W-1:0] count;

    wire take = s_axis_tvalid && s_axis_tready;
    wire give = m_axis_tvalid && m_axis_tready;
    wire [SLOTS*W-1:0] kept = give ? held >> (OUT * W) : held;
    wire [COUNT_W-1:0] kept_count = give ? count - OUT_COUNT : count;
    wire [SLOTS*W-1:0] arriving = {{(OUT*W){1'b0}}, s_axis_tdata};

    assign s_axis_tready = count <= OUT_COUNT;
    assign m_axis_tvalid = count >= OUT_COUNT;
    assign m_axis_tdata = held[OUT*W-1:0];

    always @(posedge clk) begin
        if (!rst_n) begin
            held <= {(SLOTS*W){1'b0}};
            count <= {COUNT_W{1'b0}};
        end else begin
            held <= take ? kept | (arriving << (kept_count * W)) : kept;
            count <= take ? kept_count + IN_COUNT : kept_count;
        end
    end
endmodule
