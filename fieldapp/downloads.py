"""Files that people download (exports): CSV made safe for spreadsheets."""
import csv
import io

# OWASP "CSV Injection": a cell starting with one of these is read as a formula by Excel, LibreOffice or
# Google Sheets (tab and carriage return too: some spreadsheets skip them and then see the formula).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value):
    """One cell as text that no spreadsheet runs: None -> "", text starting with = + - @ tab or CR gets a
    leading apostrophe (which spreadsheets show as "text, not a formula"). Numbers are ours, not a
    person's input, and are left as they are so that they stay numbers."""
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_document(header, rows):
    """A whole CSV file as text: a BOM (so that Excel reads æøå as UTF-8), semicolons (Norwegian Excel's
    list separator), every cell through csv_cell. header and each row: sequences of cells."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow([csv_cell(cell) for cell in header])
    for row in rows:
        writer.writerow([csv_cell(cell) for cell in row])
    return buffer.getvalue()
