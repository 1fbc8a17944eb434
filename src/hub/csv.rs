//! The small CSV dialect the catalogue file uses: `;` between fields (what
//! Excel in Norwegian expects), CRLF between records, a UTF-8 byte order
//! mark first (so Excel reads æøå), and RFC 4180 quoting: a field holding
//! `;`, `"`, CR or LF is put in `"…"` with inner quotes doubled.
//!
//! Reading is lenient where people's tools differ: a BOM or none, LF or
//! CRLF, and a tab instead of `;` when the header has tabs and no `;` (a
//! range copied out of a spreadsheet). Pure text in, text out: no I/O and
//! no knowledge of products here.

/// What Excel needs first to read the file as UTF-8.
pub const BOM: char = '\u{feff}';

/// A text cell made safe to open in a spreadsheet: one that starts with
/// what Excel or LibreOffice would run as a formula (`=`, `+`, `-`, `@`, a
/// tab or CR; "CSV injection") gets a `'` first, which the spreadsheet
/// shows as text and [`text_in`] takes off again on import. A product
/// named `=HYPERLINK(…)` on a till must never become a live link on the
/// treasurer's laptop.
pub fn text_out(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

/// A text cell as [`text_out`] wrote it, back to the text.
pub fn text_in(s: &str) -> &str {
    match s.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest,
        _ => s,
    }
}

/// One record as read, with the line of the file it starts on (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub line: usize,
    pub fields: Vec<String>,
}

/// Appends one record (and its CRLF) to `out`.
pub fn write_record<S: AsRef<str>>(out: &mut String, fields: &[S]) {
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.push(';');
        }
        let f = field.as_ref();
        if f.contains([';', '"', '\r', '\n']) {
            out.push('"');
            out.push_str(&f.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(f);
        }
    }
    out.push_str("\r\n");
}

/// Reads every record; an error names the line where a quoted field that
/// never ends began. Blank lines are skipped.
pub fn parse(text: &str) -> Result<Vec<Record>, String> {
    let text = text.strip_prefix(BOM).unwrap_or(text);
    let first = text.lines().next().unwrap_or("");
    let sep = if first.contains('\t') && !first.contains(';') {
        '\t'
    } else {
        ';'
    };
    let mut records = Vec::new();
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut line = 1;
    let mut start = 1;
    let mut quoted = false;
    // Whether the record so far has any content (a blank line has none).
    let mut started = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                c => {
                    if c == '\n' {
                        line += 1;
                    }
                    field.push(c);
                }
            }
            continue;
        }
        match c {
            '"' if field.is_empty() => {
                quoted = true;
                started = true;
            }
            c if c == sep => {
                fields.push(std::mem::take(&mut field));
                started = true;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' | '\r' => {
                if started || !field.is_empty() {
                    fields.push(std::mem::take(&mut field));
                    records.push(Record {
                        line: start,
                        fields: std::mem::take(&mut fields),
                    });
                }
                started = false;
                line += 1;
                start = line;
            }
            c => {
                field.push(c);
                started = true;
            }
        }
    }
    if quoted {
        return Err(format!(
            "Linje {start}: et felt som begynner med \" slutter aldri."
        ));
    }
    if started || !field.is_empty() {
        fields.push(field);
        records.push(Record {
            line: start,
            fields,
        });
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(line: usize, fields: &[&str]) -> Record {
        Record {
            line,
            fields: fields.iter().map(|f| f.to_string()).collect(),
        }
    }

    #[test]
    fn quotes_what_needs_quoting_and_reads_it_back() {
        let rows: [&[&str]; 4] = [
            &["id", "navn", "pris"],
            &["kake", "Kake; sjokolade", "35,50"],
            &["saft", "Saft \"ekte\"", "20,00"],
            &["bløt", "Bløtkake\nmed bær", ""],
        ];
        let mut out = String::from(BOM);
        for r in rows {
            write_record(&mut out, r);
        }
        assert_eq!(
            out,
            "\u{feff}id;navn;pris\r\nkake;\"Kake; sjokolade\";35,50\r\n\
             saft;\"Saft \"\"ekte\"\"\";20,00\r\nbløt;\"Bløtkake\nmed bær\";\r\n"
        );
        assert_eq!(
            parse(&out).unwrap(),
            vec![
                rec(1, rows[0]),
                rec(2, rows[1]),
                rec(3, rows[2]),
                // The quoted newline: the record starts on line 4, the next on 6.
                rec(4, rows[3]),
            ]
        );
    }

    #[test]
    fn reads_what_other_tools_write() {
        let cases: [(&str, Vec<Record>); 6] = [
            // No BOM, LF, no newline at the end, blank lines skipped.
            ("a;b\n\nc;d", vec![rec(1, &["a", "b"]), rec(3, &["c", "d"])]),
            // Empty fields are fields; a line of separators is a record.
            (
                "a;;\n;;",
                vec![rec(1, &["a", "", ""]), rec(2, &["", "", ""])],
            ),
            // A spreadsheet range pasted: tabs.
            (
                "id\tnavn\r\nk\tKaffe; sterk",
                vec![rec(1, &["id", "navn"]), rec(2, &["k", "Kaffe; sterk"])],
            ),
            // A quote inside an unquoted field is kept as it is.
            ("5\" spiker;x", vec![rec(1, &["5\" spiker", "x"])]),
            ("\u{feff}æ;ø;å\r\n", vec![rec(1, &["æ", "ø", "å"])]),
            ("", vec![]),
        ];
        for (text, want) in cases {
            assert_eq!(parse(text).unwrap(), want, "{text:?}");
        }
        assert_eq!(
            parse("a;b\nc;\"open\nstill open").unwrap_err(),
            "Linje 2: et felt som begynner med \" slutter aldri."
        );
    }
}

#[cfg(test)]
mod formula_tests {
    use super::*;

    #[test]
    fn cells_a_spreadsheet_would_run_are_written_as_text_and_read_back() {
        for (text, written) in [
            (
                "=HYPERLINK(\"http://x\";\"Klikk\")",
                "'=HYPERLINK(\"http://x\";\"Klikk\")",
            ),
            ("+47 vaffel", "'+47 vaffel"),
            ("-20 % kaffe", "'-20 % kaffe"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("Kaffe", "Kaffe"),
            ("'sitat", "'sitat"),
        ] {
            assert_eq!(text_out(text), written);
            assert_eq!(text_in(&text_out(text)), text);
        }
    }
}
