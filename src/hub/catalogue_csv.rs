//! The catalogue as a CSV file for the treasurer's spreadsheet: every
//! product (archived too) out, and the same columns back in.
//!
//! An import is all or nothing: every row goes through the catalogue's own
//! checks (`check_id`, `check`) before the database is touched, and one bad
//! row refuses the whole file with every bad row named by its line. A good
//! file is applied in one transaction with one version bump, so the tills
//! see one new version or none; rows equal to what is stored change nothing
//! and, when no row changed, the version stays.

use super::catalogue::{BUMP, Checked, HubProduct, ProductInput, check, check_id};
use super::csv::{self, BOM, Record};
use super::groups::group_for;
use super::{Hub, HubError};

/// The columns, in the order the export writes them.
pub const COLUMNS: [&str; 8] = [
    "id",
    "navn",
    "gruppe",
    "pris",
    "mva",
    "plassering",
    "arkivert",
    "utsolgt",
];
/// The columns an import may leave out (a product keeps its marks; a new
/// one is on sale).
const OPTIONAL: [&str; 2] = ["arkivert", "utsolgt"];

/// Rows one import takes.
pub const MAX_ROWS: usize = 2000;
/// Bad rows the answer lists before it only counts the rest.
const MAX_LISTED: usize = 100;

/// What a good import did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Imported {
    pub added: usize,
    pub changed: usize,
    /// The catalogue's version after the import (the same as before when
    /// nothing changed).
    pub version: i64,
}

fn yes_no(b: bool) -> &'static str {
    if b { "ja" } else { "nei" }
}

/// The file: BOM, header, one record per product, prices in kroner with a
/// decimal comma and no thousands spaces (`1234,50`), as Excel reads them.
pub fn export(products: &[HubProduct]) -> String {
    let mut out = String::from(BOM);
    csv::write_record(&mut out, &COLUMNS);
    for p in products {
        csv::write_record(
            &mut out,
            &[
                p.id.clone(),
                csv::text_out(&p.name),
                csv::text_out(&p.group),
                format!("{},{:02}", p.price / 100, p.price % 100),
                p.vat_code.to_string(),
                p.position.to_string(),
                yes_no(p.archived).to_string(),
                yes_no(p.sold_out).to_string(),
            ],
        );
    }
    out
}

/// One checked row of an import.
struct Row {
    /// Its line in the file, for a refusal found in the database.
    line: usize,
    id: String,
    c: Checked,
    /// `None`: the column is left out or the cell empty (keep what is stored).
    archived: Option<bool>,
    sold_out: Option<bool>,
}

fn reason(e: HubError) -> String {
    match e {
        HubError::Refused { message, .. } => message,
        other => other.to_string(),
    }
}

fn read_yes_no(column: &str, text: &str) -> Result<Option<bool>, String> {
    match text.trim().to_lowercase().as_str() {
        "" => Ok(None),
        "ja" => Ok(Some(true)),
        "nei" => Ok(Some(false)),
        other => Err(format!(
            "«{other}» i kolonnen {column}: skriv ja eller nei."
        )),
    }
}

/// Where each known column is in the file's header.
fn header(record: &Record) -> Result<[Option<usize>; 8], Vec<String>> {
    let mut at = [None; 8];
    let mut errors = Vec::new();
    for (i, name) in record.fields.iter().enumerate() {
        let name = name.trim().to_lowercase();
        match COLUMNS.iter().position(|c| *c == name) {
            Some(k) if at[k].is_some() => {
                errors.push(format!("Linje 1: kolonnen «{name}» står to ganger."))
            }
            Some(k) => at[k] = Some(i),
            None if name.is_empty() => {}
            None => errors.push(format!(
                "Linje 1: ukjent kolonne «{name}». Kolonnene er {}.",
                COLUMNS.join(";")
            )),
        }
    }
    for (k, column) in COLUMNS.iter().enumerate() {
        if at[k].is_none() && !OPTIONAL.contains(column) {
            errors.push(format!(
                "Linje 1: kolonnen «{column}» mangler i overskriften. Første linje må være \
                 {} (arkivert og utsolgt kan utelates).",
                COLUMNS.join(";")
            ));
        }
    }
    if errors.is_empty() {
        Ok(at)
    } else {
        Err(errors)
    }
}

fn read_row(at: &[Option<usize>; 8], width: usize, record: &Record) -> Result<Row, String> {
    if record
        .fields
        .iter()
        .skip(width)
        .any(|f| !f.trim().is_empty())
    {
        return Err(format!(
            "raden har {} felt, men overskriften har {width}.",
            record.fields.len()
        ));
    }
    let cell = |k: usize| {
        at[k]
            .and_then(|i| record.fields.get(i))
            .map_or("", String::as_str)
    };
    let id = check_id(cell(0)).map_err(reason)?;
    let c = check(&ProductInput {
        name: csv::text_in(cell(1)).into(),
        group: csv::text_in(cell(2)).into(),
        price: cell(3).into(),
        vat_code: cell(4).into(),
        position: cell(5).into(),
    })
    .map_err(reason)?;
    Ok(Row {
        line: record.line,
        id,
        c,
        archived: read_yes_no("arkivert", cell(6))?,
        sold_out: read_yes_no("utsolgt", cell(7))?,
    })
}

/// Every row checked, or every reason the file is refused (each with its
/// line). Nothing here touches the database.
fn read_import(text: &str) -> Result<Vec<Row>, Vec<String>> {
    let records = csv::parse(text).map_err(|e| vec![e])?;
    let mut records = records.into_iter();
    let Some(head) = records.next() else {
        return Err(vec![format!(
            "Ingenting å lese inn: første linje må være overskriften {}.",
            COLUMNS.join(";")
        )]);
    };
    let at = header(&head)?;
    // A spreadsheet's blank rows come out as a line of separators.
    let records: Vec<Record> = records
        .filter(|r| r.fields.iter().any(|f| !f.trim().is_empty()))
        .collect();
    if records.is_empty() {
        return Err(vec!["Filen har ingen varer under overskriften.".into()]);
    }
    if records.len() > MAX_ROWS {
        return Err(vec![format!(
            "Filen har {} varer; høyst {MAX_ROWS} kan leses inn om gangen. Del den opp.",
            records.len()
        )]);
    }
    let mut rows = Vec::with_capacity(records.len());
    let mut errors = Vec::new();
    let mut first_line: std::collections::HashMap<String, usize> = Default::default();
    for r in &records {
        match read_row(&at, head.fields.len(), r) {
            Ok(row) => {
                if let Some(first) = first_line.get(&row.id) {
                    errors.push(format!(
                        "Linje {}: varenummeret «{}» står også på linje {first}.",
                        r.line, row.id
                    ));
                } else {
                    first_line.insert(row.id.clone(), r.line);
                    rows.push(row);
                }
            }
            Err(why) => errors.push(format!("Linje {}: {why}", r.line)),
        }
    }
    if errors.is_empty() {
        return Ok(rows);
    }
    if errors.len() > MAX_LISTED {
        let more = errors.len() - MAX_LISTED;
        errors.truncate(MAX_LISTED);
        errors.push(format!("… og {more} linjer til med feil."));
    }
    Err(errors)
}

/// Adds the product, or changes it when anything differs; one row
/// affected means added or changed, none means it was as stored. An
/// empty `arkivert`/`utsolgt` ($7, $8) keeps the stored mark, an empty
/// `plassering` ($6) the stored place (a new product goes last in its
/// group). `$3` is the group's id, from its name (`group_for`).
const UPSERT: &str = "INSERT INTO products \
     (id, name, group_id, price_ore, vat_code, position, archived, sold_out, sold_out_at) \
     VALUES ($1, $2, $3, $4, $5, COALESCE($6, (SELECT COALESCE(max(position), 0) + 1 \
             FROM products WHERE group_id IS NOT DISTINCT FROM $3)), \
             COALESCE($7, false), COALESCE($8, false), CASE WHEN $8 THEN now() END) \
     ON CONFLICT (id) DO UPDATE SET name = $2, group_id = $3, price_ore = $4, vat_code = $5, \
         position = COALESCE($6, products.position), \
         archived = COALESCE($7, products.archived), \
         sold_out = COALESCE($8, products.sold_out), \
         sold_out_at = CASE WHEN COALESCE($8, products.sold_out) <> products.sold_out \
                       THEN now() ELSE products.sold_out_at END, \
         updated_at = now() \
     WHERE (products.name, products.group_id, products.price_ore, products.vat_code, \
            products.position, products.archived, products.sold_out) \
       IS DISTINCT FROM ($2, $3, $4, $5, COALESCE($6, products.position), \
                         COALESCE($7, products.archived), COALESCE($8, products.sold_out))";

impl Hub {
    /// The catalogue as the CSV file [`export`] writes.
    pub async fn catalogue_csv(&self) -> Result<String, HubError> {
        Ok(export(&self.products().await?.1))
    }

    /// Reads a catalogue file in: `Ok(Err(reasons))` when any row is bad
    /// (nothing changed), else what was added and changed, in one
    /// transaction with at most one version bump.
    pub async fn import_catalogue(
        &self,
        text: &str,
    ) -> Result<Result<Imported, Vec<String>>, HubError> {
        let rows = match read_import(text) {
            Ok(rows) => rows,
            Err(reasons) => return Ok(Err(reasons)),
        };
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
        let existing: std::collections::HashSet<String> = tx
            .query(
                "SELECT id FROM products WHERE id = ANY($1) FOR UPDATE",
                &[&ids],
            )
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
        // Each row's group by name, made when new; a row that would put a
        // product into an archived group refuses the file like a bad row.
        let mut groups = Vec::with_capacity(rows.len());
        for r in &rows {
            match group_for(&tx, &r.c.group, &r.id).await {
                Ok(g) => groups.push(g),
                Err(HubError::Refused { message, .. }) => {
                    return Ok(Err(vec![format!("Linje {}: {message}", r.line)]));
                }
                Err(e) => return Err(e),
            }
        }
        let upsert = tx.prepare(UPSERT).await?;
        let (mut added, mut changed) = (0, 0);
        for (r, group) in rows.iter().zip(&groups) {
            let c = &r.c;
            let n = tx
                .execute(
                    &upsert,
                    &[
                        &r.id,
                        &c.name,
                        group,
                        &c.price,
                        &c.vat,
                        &c.position,
                        &r.archived,
                        &r.sold_out,
                    ],
                )
                .await?;
            match (n, existing.contains(&r.id)) {
                (0, _) => {}
                (_, true) => changed += 1,
                (_, false) => added += 1,
            }
        }
        let version: i64 = if added + changed > 0 {
            tx.query_one(BUMP, &[]).await?.get(0)
        } else {
            tx.query_one("SELECT version FROM catalogue_version", &[])
                .await?
                .get(0)
        };
        tx.commit().await?;
        tracing::info!(
            rows = rows.len(),
            added,
            changed,
            version,
            "catalogue imported"
        );
        Ok(Ok(Imported {
            added,
            changed,
            version,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(id: &str, name: &str, price: i64, archived: bool) -> HubProduct {
        HubProduct {
            id: id.into(),
            name: name.into(),
            group: "Kiosk".into(),
            group_archived: false,
            price,
            vat_code: 31,
            position: 2,
            archived,
            sold_out: false,
        }
    }

    #[test]
    fn the_export_reads_back_as_the_same_products() {
        let products = [
            product("kake", "Kake; sjokolade \"stor\"", 3_550, false),
            product("bløt", "Bløtkake", 123_400, true),
        ];
        let text = export(&products);
        assert!(
            text.starts_with("\u{feff}id;navn;gruppe;pris;mva;plassering;arkivert;utsolgt\r\n")
        );
        assert!(
            text.contains("kake;\"Kake; sjokolade \"\"stor\"\"\";Kiosk;35,50;31;2;nei;nei\r\n")
        );
        assert!(text.contains(";1234,00;31;2;ja;nei\r\n"), "{text}");
        // "bløt" is not a valid id: the file is refused, with its line.
        assert_eq!(
            read_import(&text).err().unwrap(),
            ["Linje 3: Varenummeret må være 1 til 40 tegn: små bokstaver a–z, sifre, - og _."]
        );
        let products = [
            products[0].clone(),
            product("blot", "Bløtkake", 123_400, true),
            // What a spreadsheet would run is written as text, and read
            // back as the name it is.
            product("lenke", "=HYPERLINK(\"http://x\")", 1_000, false),
        ];
        let text = export(&products);
        assert!(
            text.contains("lenke;\"'=HYPERLINK(\"\"http://x\"\")\";"),
            "{text}"
        );
        let rows = read_import(&text).unwrap();
        assert_eq!(rows.len(), 3);
        for (row, p) in rows.iter().zip(&products) {
            assert_eq!(
                (
                    &row.id,
                    &row.c.name,
                    &row.c.group,
                    row.c.price,
                    row.c.vat,
                    row.c.position
                ),
                (
                    &p.id,
                    &p.name,
                    &p.group,
                    p.price,
                    p.vat_code as i16,
                    Some(p.position)
                )
            );
            assert_eq!(
                (row.archived, row.sold_out),
                (Some(p.archived), Some(false))
            );
        }
    }

    #[test]
    fn a_bad_file_is_refused_with_every_bad_line() {
        let head = "id;navn;gruppe;pris;mva;plassering\n";
        let cases: [(String, &[&str]); 6] = [
            (
                format!(
                    "{head}kaffe;Kaffe;Kiosk;30;31;1\nbolle;Bolle;;0;31;\n;;;;;\nte;Te;;20;25;\n"
                ),
                &[
                    "Linje 3: Prisen «0» er ikke gyldig: skriv en pris over 0 kr, f.eks. 35 eller 35,50.",
                    "Linje 5: Ukjent mva-kode «25»: bruk 3 (25 %), 31 (15 %), 32 (11,11 %), \
                     33 (12 %), 5 (fritatt) eller 6 (utenfor mva-loven).",
                ],
            ),
            (
                format!("{head}kaffe;Kaffe;;30;31;\nkaffe;Kaffe;;35;31;\n"),
                &["Linje 3: varenummeret «kaffe» står også på linje 2."],
            ),
            (
                "id;navn;gruppe;mva;plassering\nkaffe;Kaffe;;31;\n".into(),
                &[
                    "Linje 1: kolonnen «pris» mangler i overskriften. Første linje må være \
                   id;navn;gruppe;pris;mva;plassering;arkivert;utsolgt (arkivert og utsolgt \
                   kan utelates).",
                ],
            ),
            (
                format!(
                    "{}kaffe;Kaffe;;30;31;;kanskje;\n",
                    head.trim_end().to_owned() + ";arkivert;utsolgt\n"
                ),
                &["Linje 2: «kanskje» i kolonnen arkivert: skriv ja eller nei."],
            ),
            (
                format!("{head}kaffe;;;30;31;;x\n"),
                &["Linje 2: raden har 7 felt, men overskriften har 6."],
            ),
            (head.into(), &["Filen har ingen varer under overskriften."]),
        ];
        for (text, want) in cases {
            assert_eq!(read_import(&text).err().unwrap(), want, "{text}");
        }
        let mut big = String::from(head);
        for i in 0..=MAX_ROWS {
            big.push_str(&format!("v{i};Vare;;10;31;\n"));
        }
        assert_eq!(
            read_import(&big).err().unwrap(),
            ["Filen har 2001 varer; høyst 2000 kan leses inn om gangen. Del den opp."]
        );
        big.truncate(big.rfind("v2000").unwrap());
        assert_eq!(read_import(&big).unwrap().len(), MAX_ROWS);
    }
}
