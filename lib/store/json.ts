// JSON columns are stored as text in both dialects so that they come back the same from SQLite and MySQL/MariaDB.

export function toJsonColumn(value: unknown): string {
  return JSON.stringify(value ?? null);
}

export function fromJsonColumn<T>(value: unknown, fallback: T): T {
  if (value === null || value === undefined) return fallback;
  if (typeof value === "string") return value === "" ? fallback : (JSON.parse(value) as T);
  if (Buffer.isBuffer(value)) return JSON.parse(value.toString("utf8")) as T;
  return value as T;
}

/** BIGINT columns may come back as strings from some drivers; times are epoch milliseconds. */
export function toNumber(value: unknown): number {
  return typeof value === "number" ? value : Number(value);
}

export function toNullableNumber(value: unknown): number | null {
  return value === null || value === undefined ? null : toNumber(value);
}

export function toIso(ms: unknown): string {
  return new Date(toNumber(ms)).toISOString();
}

export function toNullableIso(ms: unknown): string | null {
  return ms === null || ms === undefined ? null : toIso(ms);
}
