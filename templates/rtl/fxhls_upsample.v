// fxhls_upsample: nearest-neighbour upsampling of a (C, H, W) image streamed pixel by
// pixel (C / LANES beats of LANES values per pixel): output pixel (h, w) is input pixel
// (h / SH, w / SW), so each input row goes out SH times, each of its pixels SW times.
//
// Two row buffers (synchronous-read memory of 2 * W * C / LANES beats): one fills while the
// other is read out SH * SW times, so in steady state a row takes SH * SW * W * C / LANES
// clocks out. Addresses step by a pixel's beats (no run-time product); values are
// moved, never changed (X_W bits each, codes or binarized bits alike).
module fxhls_upsample #(
    parameter integer C = 1,
    parameter integer LANES = 1,
    parameter integer W = 1,
    parameter integer SH = 2,
    parameter integer SW = 2,
    parameter integer X_W = 8
) (
    input  wire clk,
    input  wire rst_n,
    input  wire [LANES*X_W-1:0] s_axis_tdata,
    input  wire s_axis_tvalid,
    output wire s_axis_tready,
    output reg  [LANES*X_W-1:0] m_axis_tdata,
    output reg  m_axis_tvalid,
    input  wire m_axis_tready
);
    localparam integer GROUPS = C / LANES;  // beats per pixel
    localparam integer ROW = W * GROUPS;  // beats per row
    localparam integer ADDR_W = $clog2(2 * ROW) > 0 ? $clog2(2 * ROW) : 1;
    /* verilator lint_off WIDTHTRUNC */
    localparam [ADDR_W-1:0] PIXEL_BEATS = GROUPS;
    localparam [ADDR_W-1:0] ROW_BEATS = ROW;
    localparam [ADDR_W-1:0] LAST = 2 * ROW - 1;
    /* verilator lint_on WIDTHTRUNC */

    reg [LANES*X_W-1:0] buffer [0:2*ROW-1];
    reg [1:0] full;  // per row buffer: a whole row waits in it
    reg write_bank, read_bank;
    reg [ADDR_W-1:0] write_addr, read_addr, pixel_addr;  // pixel_addr: the first beat of the pixel read out
    reg [$clog2(GROUPS + 1)-1:0] group;
    reg [$clog2(SW + 1)-1:0] repeat_w;
    reg [$clog2(W + 1)-1:0] column;
    reg [$clog2(SH + 1)-1:0] repeat_h;

    assign s_axis_tready = !full[write_bank];
    wire write = s_axis_tvalid && s_axis_tready;
    wire read = full[read_bank] && (!m_axis_tvalid || m_axis_tready);
    wire [ADDR_W-1:0] bank_start = read_bank ? ROW_BEATS : {ADDR_W{1'b0}};
    wire [ADDR_W-1:0] next_bank_start = read_bank ? {ADDR_W{1'b0}} : ROW_BEATS;
    wire pixel_done = group == GROUPS - 1;
    wire repeat_done = pixel_done && repeat_w == SW - 1;
    wire row_done = repeat_done && column == W - 1;
    wire rows_done = row_done && repeat_h == SH - 1;

    always @(posedge clk) begin
        if (write)
            buffer[write_addr] <= s_axis_tdata;
        if (read)
            m_axis_tdata <= buffer[read_addr];
    end

    always @(posedge clk) begin
        if (!rst_n) begin
            full <= 2'b00;
            write_bank <= 1'b0;
            read_bank <= 1'b0;
            write_addr <= 0;
            read_addr <= 0;
            pixel_addr <= 0;
            group <= 0;
            repeat_w <= 0;
            column <= 0;
            repeat_h <= 0;
            m_axis_tvalid <= 1'b0;
        end else begin
            if (write) begin
                if (write_addr == ROW_BEATS - 1'b1 || write_addr == LAST) begin
                    full[write_bank] <= 1'b1;
                    write_bank <= !write_bank;
                end
                write_addr <= write_addr == LAST ? {ADDR_W{1'b0}} : write_addr + 1'b1;
            end
            if (read) begin
                m_axis_tvalid <= 1'b1;
                group <= pixel_done ? 0 : group + 1'b1;
                if (!pixel_done) begin
                    read_addr <= read_addr + 1'b1;
                end else if (!repeat_done) begin  // the same pixel again
                    repeat_w <= repeat_w + 1'b1;
                    read_addr <= pixel_addr;
                end else if (!row_done) begin  // the next pixel of the row
                    repeat_w <= 0;
                    column <= column + 1'b1;
                    pixel_addr <= pixel_addr + PIXEL_BEATS;
                    read_addr <= pixel_addr + PIXEL_BEATS;
                end else if (!rows_done) begin  // the row again
                    repeat_w <= 0;
                    column <= 0;
                    repeat_h <= repeat_h + 1'b1;
                    pixel_addr <= bank_start;
                    read_addr <= bank_start;
                end else begin  // the next row, from the other buffer
                    repeat_w <= 0;
                    column <= 0;
                    repeat_h <= 0;
                    full[read_bank] <= 1'b0;
                    read_bank <= !read_bank;
                    pixel_addr <= next_bank_start;
                    read_addr <= next_bank_start;
                end
            end else if (m_axis_tready)
                m_axis_tvalid <= 1'b0;
        end
    end
endmodule
