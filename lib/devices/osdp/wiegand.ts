// Raw Wiegand bits from a reader → a card number: 26-bit (H10301), 34-bit and 37-bit (H10304) with parity checked.

export interface WiegandCard {
  /** "wiegand-26", "wiegand-34", "wiegand-37", or "raw" when the format is unknown or the parity fails. */
  format: string;
  /** Decimal card number, or "raw:<bits>:<hex>" for raw. */
  value: string;
  facilityCode?: number;
  bits: number;
}

interface Layout {
  format: string;
  facility: [number, number];
  card: [number, number];
  evenOver: [number, number];
  oddOver: [number, number];
}

// Positions are bit indexes, MSB first; ranges are [from, to) and the parity bits are the first and the last bit.
const LAYOUTS: Record<number, Layout> = {
  26: { format: "wiegand-26", facility: [1, 9], card: [9, 25], evenOver: [1, 13], oddOver: [13, 25] },
  34: { format: "wiegand-34", facility: [1, 17], card: [17, 33], evenOver: [1, 17], oddOver: [17, 33] },
  37: { format: "wiegand-37", facility: [1, 17], card: [17, 36], evenOver: [1, 19], oddOver: [18, 36] },
};

/** The first `count` bits of `data`, left-aligned and MSB first as OSDP's osdp_RAW carries them. */
export function bitString(data: Buffer, count: number): string {
  let bits = "";
  for (let i = 0; i < count; i += 1) bits += (data[i >> 3] >> (7 - (i & 7))) & 1 ? "1" : "0";
  return bits;
}

function ones(bits: string, [from, to]: [number, number]): number {
  let count = 0;
  for (let i = from; i < to; i += 1) if (bits[i] === "1") count += 1;
  return count;
}

function rawValue(bits: string): string {
  const padded = bits.padEnd(Math.ceil(bits.length / 8) * 8, "0");
  let hex = "";
  for (let i = 0; i < padded.length; i += 8) hex += parseInt(padded.slice(i, i + 8), 2).toString(16).padStart(2, "0");
  return `raw:${bits.length}:${hex}`;
}

export function decodeWiegand(data: Buffer, bitCount: number): WiegandCard {
  const bits = bitString(data, bitCount);
  const layout = LAYOUTS[bitCount];
  if (layout) {
    const evenOk = (ones(bits, layout.evenOver) + (bits[0] === "1" ? 1 : 0)) % 2 === 0;
    const oddOk = (ones(bits, layout.oddOver) + (bits[bitCount - 1] === "1" ? 1 : 0)) % 2 === 1;
    if (evenOk && oddOk) {
      return {
        format: layout.format,
        value: String(parseInt(bits.slice(...layout.card), 2)),
        facilityCode: parseInt(bits.slice(...layout.facility), 2),
        bits: bitCount,
      };
    }
  }
  return { format: "raw", value: rawValue(bits), bits: bitCount };
}

/** Builds the bits of a card in a known format (parity included), left-aligned in bytes: for simulators and tests. */
export function encodeWiegand(bitCount: 26 | 34 | 37, facilityCode: number, cardNumber: number): Buffer {
  const layout = LAYOUTS[bitCount];
  const field = (value: number, [from, to]: [number, number]) => value.toString(2).padStart(to - from, "0").slice(-(to - from));
  const chars = Array.from({ length: bitCount }, () => "0");
  field(facilityCode, layout.facility).split("").forEach((b, i) => (chars[layout.facility[0] + i] = b));
  field(cardNumber, layout.card).split("").forEach((b, i) => (chars[layout.card[0] + i] = b));
  const bits = chars.join("");
  chars[0] = ones(bits, layout.evenOver) % 2 === 0 ? "0" : "1";
  chars[bitCount - 1] = ones(bits, layout.oddOver) % 2 === 1 ? "0" : "1";
  const out = Buffer.alloc(Math.ceil(bitCount / 8));
  chars.forEach((b, i) => {
    if (b === "1") out[i >> 3] |= 1 << (7 - (i & 7));
  });
  return out;
}
