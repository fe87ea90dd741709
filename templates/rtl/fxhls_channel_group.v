// fxhls_channel_group: the group of LANES channels the beat at a stream's input holds,
// where a pixel of C channels travels as GROUPS = C / LANES beats in channel order.
// `take` is high in the clock a beat enters; after reset the first beat is group 0.
module fxhls_channel_group #(
    parameter integer GROUPS = 1,
    parameter integer GROUP_W = 1
) (
    input  wire clk,
    input  wire rst_n,
    input  wire take,
    output reg  [GROUP_W-1:0] group
);
    always @(posedge clk) begin
        if (!rst_n || (take && group == GROUPS - 1))
            group <= 0;
        else if (take)
            group <= group + 1'b1;
    end
endmodule
