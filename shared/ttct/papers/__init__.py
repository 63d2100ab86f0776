"""The centre's papers: what every service needs to print its data as the documents a party body issues, and to
hand the same tables to other programs.

- `model`: a paper (heading, title, tables, text, signatures) and a workbook, as plain data;
- `pdf`: A4 pages with the heading of a party body's document (issuing body on the left, "ĐẢNG CỘNG SẢN VIỆT NAM"
  on the right over the place and date), tables, "Nơi nhận" and the signature block; the fonts embedded (`fonts`);
- `certificates`: giấy chứng nhận, one per page, each with its number and a QR code to its verification;
- `reports`: the class result report of a sending organisation (printed by assessment and by notification);
- `spreadsheets`: XLSX and CSV with Vietnamese headers;
- `http`: the format a request asks for and the file as its answer, in the access log like JSON;
- `labels`, `settings`: Vietnamese words and dates; who each centre is on paper.
"""
