// Local time in the school's time zone, fast enough for a million decisions a second, and the kind of each day.
import type { CalendarEntry } from "./model";

export type DayKind = "school-day" | "exam-day" | "holiday" | "break";

export interface LocalTime {
  /** YYYY-MM-DD in the school's zone. */
  date: string;
  /** 0 = Sunday. */
  weekday: number;
  minuteOfDay: number;
}

const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };
const MINUTE_MS = 60000;

/**
 * Converts instants to local wall time. Intl is slow, so the zone's offset is computed once per
 * quarter hour (offsets change only on the quarter hour) and reused for every instant inside it.
 */
export class ZoneClock {
  private readonly format: Intl.DateTimeFormat;
  private cachedBucket = Number.NaN;
  private cachedOffsetMs = 0;

  constructor(readonly timeZone: string) {
    this.format = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
  }

  private offsetMs(atMs: number): number {
    const bucket = Math.floor(atMs / (15 * MINUTE_MS));
    if (bucket !== this.cachedBucket) {
      const parts = Object.fromEntries(this.format.formatToParts(new Date(bucket * 15 * MINUTE_MS)).map((p) => [p.type, p.value]));
      const asUtc = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
      this.cachedOffsetMs = asUtc - bucket * 15 * MINUTE_MS;
      this.cachedBucket = bucket;
    }
    return this.cachedOffsetMs;
  }

  local(atMs: number): LocalTime {
    const shifted = new Date(atMs + this.offsetMs(atMs));
    const date = shifted.toISOString().slice(0, 10);
    return { date, weekday: shifted.getUTCDay(), minuteOfDay: shifted.getUTCHours() * 60 + shifted.getUTCMinutes() };
  }

  /** The instant at which a local date (YYYY-MM-DD) begins in this time zone. */
  startOfLocalDate(date: string): number {
    const wallMs = parseLocalDate(date) * 86400000;
    const guess = wallMs - this.offsetMs(wallMs);
    return wallMs - this.offsetMs(guess);
  }

  /** Epoch-day number of the local date (days since 1970-01-01 in local wall time) and minute of week. */
  localDayAndMinute(atMs: number): { day: number; minuteOfWeek: number } {
    const localMs = atMs + this.offsetMs(atMs);
    const day = Math.floor(localMs / 86400000);
    const minuteOfDay = Math.floor((localMs - day * 86400000) / MINUTE_MS);
    // 1970-01-01 was a Thursday (4).
    const weekday = (((day + 4) % 7) + 7) % 7;
    return { day, minuteOfWeek: weekday * 1440 + minuteOfDay };
  }
}

export function parseLocalDate(date: string): number {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!match) throw new Error(`not a date (YYYY-MM-DD): "${date}"`);
  const ms = Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
  if (new Date(ms).toISOString().slice(0, 10) !== date) throw new Error(`not a real date: "${date}"`);
  return ms / 86400000;
}

/** Day kinds per local epoch-day, precomputed from the calendar; weekends and breaks derive from it. */
export class SchoolCalendar {
  private readonly holidays = new Set<number>();
  private readonly examDays = new Set<number>();
  private readonly termDays = new Set<number>();
  private readonly hasTerms: boolean;

  constructor(entries: readonly CalendarEntry[]) {
    for (const entry of entries) {
      const from = parseLocalDate(entry.from);
      const to = parseLocalDate(entry.to);
      const target = entry.kind === "holiday" ? this.holidays : entry.kind === "exam" ? this.examDays : this.termDays;
      for (let day = from; day <= to; day += 1) target.add(day);
    }
    this.hasTerms = this.termDays.size > 0;
  }

  /**
   * Holidays win over exam days, exam days over term days. With terms defined, a day outside every term is a
   * break; without any, every day is a school day. Weekdays are left to the rules' weekly windows.
   */
  kindOf(day: number): DayKind {
    if (this.holidays.has(day)) return "holiday";
    if (this.examDays.has(day)) return "exam-day";
    if (this.hasTerms && !this.termDays.has(day)) return "break";
    return "school-day";
  }
}
