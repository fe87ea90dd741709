// fxhls_flatten: a (C, H, W) image streamed pixel by pixel (each pixel's C values in a
// row, one X_W-bit value per beat) out in ONNX's flattened order (channel by channel,
// each channel's PIXELS = H*W values row by row), one value per beat.
//
// Two image buffers (synchronous-read memory of 2*C*PIXELS values): one fills while the
// other drains, so in steady state an image takes C*PIXELS clocks in and as many out.
// The write address steps by PIXELS from channel to channel (no run-time product).
module fxhls_flatten #(
    parameter integer C = 1,
    parameter integer PIXELS = 1,
    parameter integer X_W = 8
) (
    input  wire clk,
    input  wire rst_n,
    input  wire [X_W-1:0] s_axis_tdata,
    input  wire s_axis_tvalid,
    output wire s_axis_tready,
    output reg  [X_W-1:0] m_axis_tdata,
    output reg  m_axis_tvalid,
    input  wire m_axis_tready
);
    localparam integer N = C * PIXELS;
    localparam integer ADDR_W = $clog2(2 * N);
    /* verilator lint_off WIDTHTRUNC */
    localparam [ADDR_W-1:0] STEP = PIXELS;  // all fit ADDR_W bits
    localparam [ADDR_W-1:0] BANK_SIZE = N;
    localparam [ADDR_W-1:0] LAST = 2 * N - 1;
    /* verilator lint_on WIDTHTRUNC */

    reg [X_W-1:0] buffer [0:2*N-1];
    reg [1:0] full;  // per buffer: a whole image waits in it
    reg write_bank, read_bank;
    reg [ADDR_W-1:0] write_addr, pixel_addr, read_addr;  // pixel_addr: channel 0 of the pixel
    reg [$clog2(C + 1)-1:0] channel;
    reg [$clog2(PIXELS + 1)-1:0] pixel;

    assign s_axis_tready = !full[write_bank];
    wire write = s_axis_tvalid && s_axis_tready;
    wire last_channel = channel == C - 1;
    wire last_in = last_channel && pixel == PIXELS - 1;
    wire read = full[read_bank] && (!m_axis_tvalid || m_axis_tready);
    wire last_out = read_addr == (read_bank ? LAST : BANK_SIZE - 1'b1);

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
            pixel_addr <= 0;
            read_addr <= 0;
            channel <= 0;
            pixel <= 0;
            m_axis_tvalid <= 1'b0;
        end else begin
            if (write) begin
                if (last_in) begin
                    full[write_bank] <= 1'b1;
                    write_bank <= !write_bank;
                    channel <= 0;
                    pixel <= 0;
                    write_addr <= write_bank ? {ADDR_W{1'b0}} : BANK_SIZE;
                    pixel_addr <= write_bank ? {ADDR_W{1'b0}} : BANK_SIZE;
                end else if (last_channel) begin
                    channel <= 0;
                    pixel <= pixel + 1'b1;
                    write_addr <= pixel_addr + 1'b1;
                    pixel_addr <= pixel_addr + 1'b1;
                end else begin
                    channel <= channel + 1'b1;
                    write_addr <= write_addr + STEP;
                end
            end
            if (read) begin
                m_axis_tvalid <= 1'b1;
                if (last_out) begin
                    full[read_bank] <= 1'b0;
                    read_bank <= !read_bank;
                end
                read_addr <= read_addr == LAST ? {ADDR_W{1'b0}} : read_addr + 1'b1;
            end else if (m_axis_tready)
                m_axis_tvalid <= 1'b0;
        end
    end
endmodule
