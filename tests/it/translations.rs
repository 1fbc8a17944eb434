//! Every `@tr("…")` string in `ui/` has an English entry in the bundled
//! `.po` file, with the same `{}` placeholders; a missing one would show
//! Norwegian to an English-speaking operator without anyone noticing. The
//! sentences the Rust side shows are `@tr` strings too (`ui/words.slint`),
//! so this covers every word on screen; `src/lib.rs`'s `boundaries` keeps
//! Rust from choosing words by language on its own.

use std::collections::HashMap;
use std::path::Path;

fn tr_strings(dir: &Path, out: &mut Vec<(String, String)>) {
    if dir.is_file() {
        return tr_file(dir, out);
    }
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            tr_strings(&path, out);
        } else if path.extension().is_some_and(|e| e == "slint") {
            tr_file(&path, out);
        }
    }
}

fn tr_file(path: &Path, out: &mut Vec<(String, String)>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut rest = text.as_str();
    while let Some(i) = rest.find("@tr(\"") {
        rest = &rest[i + 5..];
        let end = rest.find('"').expect("a closed @tr string");
        out.push((rest[..end].to_string(), path.display().to_string()));
        rest = &rest[end..];
    }
}

fn po_entries(text: &str) -> HashMap<String, String> {
    let unquote = |s: &str| {
        serde_json::from_str::<String>(s.trim())
            .unwrap_or_else(|e| panic!("bad .po string {s}: {e}"))
    };
    let mut map = HashMap::new();
    let mut id = None;
    for line in text.lines() {
        if let Some(s) = line.strip_prefix("msgid ") {
            id = Some(unquote(s));
        } else if let Some(s) = line.strip_prefix("msgstr ")
            && let Some(k) = id.take()
        {
            map.insert(k, unquote(s));
        }
    }
    map
}

#[test]
fn every_ui_string_has_an_english_translation() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut strings = Vec::new();
    tr_strings(&root.join("ui"), &mut strings);
    assert!(
        strings.len() > 50,
        "found only {} @tr strings",
        strings.len()
    );
    let po = std::fs::read_to_string(root.join("ui/translations/en/LC_MESSAGES/luka.po")).unwrap();
    let en = po_entries(&po);
    let mut missing = Vec::new();
    for (s, file) in &strings {
        match en.get(s) {
            None => missing.push(format!("{s:?} ({file})")),
            Some(t) if t.is_empty() => missing.push(format!("{s:?} is empty ({file})")),
            Some(t) if t.matches("{}").count() != s.matches("{}").count() => {
                missing.push(format!("{s:?} → {t:?} has other placeholders"))
            }
            _ => {}
        }
    }
    assert!(
        missing.is_empty(),
        "add these to luka.po:\n{}",
        missing.join("\n")
    );
}

#[test]
fn every_catalogue_entry_is_shown_somewhere() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut strings = Vec::new();
    tr_strings(&root.join("ui"), &mut strings);
    let po = std::fs::read_to_string(root.join("ui/translations/en/LC_MESSAGES/luka.po")).unwrap();
    let mut unused: Vec<_> = po_entries(&po)
        .into_keys()
        .filter(|id| !id.is_empty() && !strings.iter().any(|(s, _)| s == id))
        .collect();
    unused.sort();
    assert!(
        unused.is_empty(),
        "luka.po has entries no @tr uses (a sentence moved or was reworded?):\n{}",
        unused.join("\n")
    );
}

#[test]
fn every_sentence_of_the_words_global_is_used_by_the_rust_side() {
    // ui/words.slint holds the sentences src/ui/ shows; one nobody calls is
    // a translation kept up for nothing.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let words = std::fs::read_to_string(root.join("ui/words.slint")).unwrap();
    let mut rust = String::new();
    for entry in std::fs::read_dir(root.join("src/ui")).unwrap() {
        rust += &std::fs::read_to_string(entry.unwrap().path()).unwrap();
    }
    let names: Vec<String> = words
        .split("public pure function ")
        .skip(1)
        .map(|rest| rest[..rest.find('(').unwrap()].replace('-', "_"))
        .collect();
    assert!(names.len() > 30, "found only {} functions", names.len());
    let unused: Vec<_> = names
        .iter()
        .filter(|n| !rust.contains(&format!("invoke_{n}(")))
        .collect();
    assert!(
        unused.is_empty(),
        "Words functions no Rust calls: {unused:?}"
    );
}
