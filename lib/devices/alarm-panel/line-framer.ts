// Splits a serial byte stream into text lines (CR, LF or CRLF), bounded so garbage without line ends cannot grow forever.

export interface FramerEvents {
  line(text: string): void;
  /** Bytes thrown away because no line end came within maxLineBytes. */
  overflow(dropped: number): void;
}

export class LineFramer {
  private buffer = Buffer.alloc(0);

  constructor(
    private readonly events: FramerEvents,
    private readonly maxLineBytes = 256,
  ) {}

  push(chunk: Buffer): void {
    let data = this.buffer.length > 0 ? Buffer.concat([this.buffer, chunk]) : chunk;
    for (;;) {
      let end = -1;
      for (let i = 0; i < data.length; i += 1) {
        if (data[i] === 0x0d || data[i] === 0x0a) {
          end = i;
          break;
        }
      }
      if (end < 0) break;
      const line = data.subarray(0, end).toString("latin1");
      data = data.subarray(end + 1);
      if (line.length > 0) this.events.line(line);
    }
    if (data.length > this.maxLineBytes) {
      this.events.overflow(data.length);
      data = Buffer.alloc(0);
    }
    this.buffer = Buffer.from(data);
  }

  /** Drops a partial line, e.g. when the port closes mid-frame. */
  reset(): number {
    const dropped = this.buffer.length;
    this.buffer = Buffer.alloc(0);
    return dropped;
  }
}
