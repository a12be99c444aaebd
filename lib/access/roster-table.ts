// Reading and writing roster spreadsheets: CSV (UTF-8 or the GBK that Excel on Chinese Windows writes) and XLSX.
import iconv from "iconv-lite";
import ExcelJS from "exceljs";
import { ValidationError } from "../errors";

export type RosterFormat = "csv" | "xlsx";

/** A sheet as text cells; `rows[i]` is spreadsheet row `i + 2` (row 1 holds the headers). */
export interface RosterTable {
  headers: string[];
  rows: string[][];
}

const XLSX_MAGIC = Buffer.from([0x50, 0x4b, 0x03, 0x04]);

/** Guesses the format from the bytes (an XLSX file is a zip), falling back to the file name. */
export function detectRosterFormat(bytes: Buffer, fileName?: string): RosterFormat {
  if (bytes.subarray(0, 4).equals(XLSX_MAGIC)) return "xlsx";
  if (fileName && /\.xlsx$/i.test(fileName)) {
    throw new ValidationError(`"${fileName}" is named .xlsx but is not an XLSX workbook`, "file");
  }
  return "csv";
}

export async function readRosterTable(bytes: Buffer, format: RosterFormat): Promise<RosterTable> {
  const cells = format === "xlsx" ? await readXlsx(bytes) : parseCsv(decodeCsvText(bytes));
  const nonEmpty = cells.filter((row) => row.some((cell) => cell.trim() !== ""));
  if (nonEmpty.length === 0) throw new ValidationError("the roster is empty: the first row must hold the column headers", "file");
  const [headers, ...rows] = trimTrailingEmptyRows(cells);
  return { headers: headers.map((h) => h.trim()), rows };
}

function trimTrailingEmptyRows(cells: string[][]): string[][] {
  let end = cells.length;
  while (end > 0 && cells[end - 1].every((cell) => cell.trim() === "")) end -= 1;
  let start = 0;
  while (start < end && cells[start].every((cell) => cell.trim() === "")) start += 1;
  return cells.slice(start, end);
}

/** UTF-8 (with or without BOM) unless the bytes are not valid UTF-8, in which case GB18030 (a superset of GBK). */
export function decodeCsvText(bytes: Buffer): string {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return bytes.subarray(3).toString("utf8");
  const text = new TextDecoder("utf-8", { fatal: false }).decode(bytes);
  if (!text.includes("\uFFFD")) return text;
  return iconv.decode(bytes, "gb18030");
}

/** RFC 4180 CSV: quoted fields may hold commas, quotes ("") and line breaks; CRLF or LF row ends. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else {
        field += ch;
      }
      i += 1;
      continue;
    }
    if (ch === '"' && field === "") {
      quoted = true;
    } else if (ch === ",") {
      row.push(field);
      field = "";
    } else if (ch === "\n" || ch === "\r") {
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
      if (ch === "\r" && text[i + 1] === "\n") i += 1;
    } else {
      field += ch;
    }
    i += 1;
  }
  if (quoted) throw new ValidationError("the CSV ends inside a quoted field (a closing \" is missing)", "file");
  if (field !== "" || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

function csvField(value: string): string {
  return /[",\r\n]/.test(value) || /^\s|\s$/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** CSV with a UTF-8 BOM so that Excel opens Chinese text correctly. */
export function writeCsv(table: RosterTable): Buffer {
  const lines = [table.headers, ...table.rows].map((row) => row.map(csvField).join(","));
  return Buffer.from(`\uFEFF${lines.join("\r\n")}\r\n`, "utf8");
}

function cellText(value: ExcelJS.CellValue): string {
  if (value === null || value === undefined) return "";
  if (value instanceof Date) return value.toISOString().slice(0, 10);
  if (typeof value === "object") {
    if ("richText" in value) return value.richText.map((part) => part.text).join("");
    if ("text" in value && typeof value.text === "string") return value.text;
    if ("result" in value) return cellText(value.result as ExcelJS.CellValue);
    if ("error" in value) return String(value.error);
    return "";
  }
  return String(value);
}

async function readXlsx(bytes: Buffer): Promise<string[][]> {
  const workbook = new ExcelJS.Workbook();
  try {
    await workbook.xlsx.load(bytes as unknown as ArrayBuffer);
  } catch (err) {
    throw new ValidationError(`the XLSX workbook cannot be read: ${(err as Error).message}`, "file");
  }
  const sheet = workbook.worksheets[0];
  if (!sheet) throw new ValidationError("the XLSX workbook has no worksheet", "file");
  const rows: string[][] = [];
  const width = sheet.columnCount;
  sheet.eachRow({ includeEmpty: true }, (row, rowNumber) => {
    const cells: string[] = [];
    for (let column = 1; column <= width; column += 1) cells.push(cellText(row.getCell(column).value).trim());
    rows[rowNumber - 1] = cells;
  });
  for (let i = 0; i < rows.length; i += 1) rows[i] ??= [];
  return rows;
}

export async function writeXlsx(table: RosterTable, sheetName = "Roster"): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  const sheet = workbook.addWorksheet(sheetName);
  sheet.addRow(table.headers).font = { bold: true };
  // Text cells throughout: a card number like 0012345 must not become the number 12345.
  for (const row of table.rows) sheet.addRow(row);
  sheet.eachRow((row) => row.eachCell((cell) => (cell.numFmt = "@")));
  sheet.views = [{ state: "frozen", ySplit: 1 }];
  table.headers.forEach((_, i) => (sheet.getColumn(i + 1).width = 16));
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

/** Spreadsheet column letters: 1 → A, 27 → AA. */
export function columnLetter(index1: number): string {
  let n = index1;
  let out = "";
  while (n > 0) {
    const rem = (n - 1) % 26;
    out = String.fromCharCode(65 + rem) + out;
    n = Math.floor((n - 1) / 26);
  }
  return out;
}
