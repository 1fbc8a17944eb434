//! Table-driven tests of the receipt layout rules (see `layout.rs`).

use super::*;
use crate::domain::Money;
use crate::printer::samples;

fn lines(doc: &Document) -> Vec<String> {
    doc.plain_lines()
}

fn big(doc: &Document) -> Vec<String> {
    doc.blocks
        .iter()
        .filter_map(|b| match b {
            Block::Text { text, style } if style.size == Size::DOUBLE && style.bold => {
                Some(text.clone())
            }
            _ => None,
        })
        .collect()
}

#[test]
fn formats_org_numbers() {
    for (input, want) in [
        ("999999999", "999 999 999"),
        ("999 999 999", "999 999 999"),
        ("NO123", "NO123"),
    ] {
        assert_eq!(format_org_number(input), want);
    }
}

#[test]
fn content_rules_per_kind() {
    type Check = fn(&Document) -> bool;
    let unregistered = {
        let mut r = samples::ticket();
        r.merchant.vat_registered = false;
        r
    };
    let cases: Vec<(&str, ReceiptInput, Check)> = vec![
        ("sale title", samples::ticket(), |d| {
            lines(d).contains(&"Salgskvittering".into())
        }),
        ("org.nr with MVA", samples::ticket(), |d| {
            lines(d).contains(&"Org.nr 999 999 999 MVA".into())
        }),
        ("org.nr without MVA", unregistered, |d| {
            lines(d).contains(&"Org.nr 999 999 999".into())
        }),
        ("number and till", samples::ticket(), |d| {
            let l = lines(d);
            l.iter()
                .any(|x| x.starts_with("Kvittering nr") && x.ends_with("1042"))
                && l.iter()
                    .any(|x| x.starts_with("Kasse") && x.ends_with("kiosk-1"))
        }),
        ("date and time", samples::ticket(), |d| {
            lines(d)
                .iter()
                .any(|l| l.contains("13.06.2026") && l.contains("14:32"))
        }),
        ("refund title", samples::refund(), |d| {
            let l = lines(d);
            l.contains(&"Returkvittering".into()) && !l.contains(&"Salgskvittering".into())
        }),
        ("refund refers to the sale", samples::refund(), |d| {
            lines(d)
                .iter()
                .any(|l| l.starts_with("Gjelder kvittering nr") && l.ends_with("1040"))
        }),
        ("refund total", samples::refund(), |d| {
            lines(d)
                .iter()
                .any(|l| l.starts_with("Totalt tilbake") && l.ends_with("kr -249,00"))
        }),
        ("vipps reference", samples::ticket(), |d| {
            lines(d)
                .iter()
                .any(|l| l.ends_with("luka-kiosk1-000001042"))
        }),
        ("cash and change", samples::kiosk_order(), |d| {
            let l = lines(d);
            l.iter()
                .any(|x| x.starts_with("Betalt kontant") && x.ends_with("500,00"))
                && l.iter()
                    .any(|x| x.starts_with("Tilbake") && x.ends_with("51,00"))
        }),
        ("vat per rate", samples::kiosk_order(), |d| {
            let l = lines(d);
            l.iter()
                .any(|x| x.starts_with("25 %") && x.ends_with("49,80"))
                && l.iter()
                    .any(|x| x.starts_with("15 %") && x.ends_with("26,09"))
        }),
        ("outside VAT", samples::ticket(), |d| {
            lines(d).iter().any(|l| l.starts_with("Utenfor mva-loven"))
        }),
        ("copy marked twice", samples::copy(), |d| {
            big(d) == ["KOPI", "KOPI"]
        }),
        ("original not marked", samples::ticket(), |d| {
            big(d).is_empty()
        }),
        ("training marked twice", samples::training(), |d| {
            let b = big(d).join(" ");
            b.matches("IKKJE KVITTERING FOR KJØP").count() == 2
        }),
        // § 2-8-2 w: nothing on a training receipt passes for a real one.
        (
            "training has no sales-receipt title",
            samples::training(),
            |d| {
                !lines(d)
                    .iter()
                    .any(|l| l.contains("Salgskvittering") || l.contains("Returkvittering"))
            },
        ),
        ("a real sale has its title", samples::ticket(), |d| {
            lines(d).contains(&"Salgskvittering".into())
        }),
        ("footer", samples::ticket(), |d| {
            lines(d).contains(&"Takk for besøket!".into())
        }),
        ("ends in a cut", samples::ticket(), |d| {
            d.blocks.last() == Some(&Block::Cut)
        }),
    ];
    for (name, input, check) in cases {
        for width in [PaperWidth::Mm58, PaperWidth::Mm80] {
            let doc = layout(&input, &LayoutConfig::new(width));
            assert!(
                check(&doc),
                "{name} at {width:?}:\n{}",
                lines(&doc).join("\n")
            );
        }
    }
}

#[test]
fn the_drawer_opens_only_for_a_cash_original_when_configured() {
    let cases = [
        (samples::kiosk_order(), true, true),
        (samples::kiosk_order(), false, false),
        (
            ReceiptInput {
                copy: true,
                ..samples::kiosk_order()
            },
            true,
            false,
        ),
        (samples::ticket(), true, false),
    ];
    for (input, configured, kicks) in cases {
        let cfg = LayoutConfig {
            open_drawer_for_cash: configured,
            ..LayoutConfig::new(PaperWidth::Mm58)
        };
        let doc = layout(&input, &cfg);
        assert_eq!(
            doc.blocks.first() == Some(&Block::DrawerKick),
            kicks,
            "{input:?}"
        );
    }
}

#[test]
fn every_line_fits_its_paper_at_its_size() {
    let mut inputs: Vec<ReceiptInput> = samples::all().into_iter().map(|(_, r)| r).collect();
    let mut long = samples::ticket();
    long.lines[0].name =
        "Sesongkort voksen for hele sesongen inkludert cupkamper og treningskamper".into();
    long.lines[0].amount = Money::nok(123_456_700);
    long.payment = PaymentInfo::Vipps {
        reference: "a-very-long-reference-of-fifty-characters-0123456".into(),
    };
    inputs.push(long);
    for width in [PaperWidth::Mm58, PaperWidth::Mm80] {
        let cfg = LayoutConfig::new(width);
        let mut docs: Vec<Document> = inputs.iter().map(|r| layout(r, &cfg)).collect();
        docs.push(layout_report(&samples::x_report(), &cfg));
        for doc in docs {
            for block in &doc.blocks {
                let (w, cols) = match block {
                    Block::Text { text, style } => (
                        text::width(text),
                        width.columns() / style.size.width as usize,
                    ),
                    Block::Row { left, right, .. } => {
                        (text::width(left) + 1 + text::width(right), width.columns())
                    }
                    _ => continue,
                };
                assert!(w <= cols, "{block:?} is {w} wide at {width:?}");
            }
        }
    }
}

#[test]
fn long_names_wrap_under_themselves_and_stop_at_three_lines() {
    let mut r = samples::ticket();
    r.lines[0].name =
        "Sesongkort voksen for hele sesongen inkludert cupkamper og treningskamper".into();
    let doc = layout(&r, &LayoutConfig::new(PaperWidth::Mm58));
    let l = lines(&doc);
    let first = l
        .iter()
        .position(|x| x.starts_with("1 x Sesongkort"))
        .unwrap();
    assert!(l[first].ends_with("150,00"));
    assert!(l[first + 1].starts_with("    ") && l[first + 2].starts_with("    "));
    assert!(l[first + 2].ends_with(".."), "{:?}", &l[first..first + 3]);
    assert_eq!(l[first + 3], "-".repeat(32));
}

#[test]
fn a_logo_wider_than_the_head_is_left_out() {
    let logo = |width: u32| Bitmap {
        width,
        height: 1,
        bits: vec![0xFF; width.div_ceil(8) as usize],
    };
    for (w, kept) in [(384, true), (385, false)] {
        let cfg = LayoutConfig {
            logo: Some(logo(w)),
            ..LayoutConfig::new(PaperWidth::Mm58)
        };
        let doc = layout(&samples::ticket(), &cfg);
        assert_eq!(
            doc.blocks.iter().any(|b| matches!(b, Block::Image(_))),
            kept,
            "{w}"
        );
    }
}
