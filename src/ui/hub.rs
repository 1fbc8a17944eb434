//! Arrangør → Rapporter → "Klubbens hub": pairs the till with the club's
//! hub from its own screen (issue 15, "Pairing without SSH"). The address
//! and the treasurer's one-time code are typed on the on-screen keyboard,
//! or on a USB keyboard or scanner (the dialog's FocusScope keeps every
//! key). The kiosk does the pairing (`kiosk/hub.rs`); the running till's
//! hub lane and catalogue follow without a restart.

use slint::{ComponentHandle, SharedString};

use super::text::Text;
use super::{AppWindow, Ctx, HubAdapter, OrganizerAdapter};

/// The longest address and code kept: more is a scan gone wrong.
const MAX_URL: usize = 200;
const MAX_CODE: usize = 24;

pub(super) fn setup(w: &AppWindow, ctx: &Ctx) {
    let c = ctx.clone();
    w.global::<OrganizerAdapter>().on_open_hub(move || open(&c));
    let a = w.global::<HubAdapter>();
    let c = ctx.clone();
    a.on_key(move |k| {
        let Some(w) = c.weak.upgrade() else { return };
        let a = w.global::<HubAdapter>();
        let (url, code, field) = typed(
            a.get_url().as_str(),
            a.get_code().as_str(),
            a.get_field(),
            &k,
        );
        a.set_url(url.into());
        a.set_code(code.into());
        a.set_field(field);
        a.set_message(SharedString::new());
    });
    let c = ctx.clone();
    a.on_connect(move || {
        let Some(w) = c.weak.upgrade() else { return };
        let a = w.global::<HubAdapter>();
        if a.get_busy() || !a.get_paired().is_empty() {
            return;
        }
        let url = a.get_url().to_string();
        let code = a.get_code().to_string();
        a.set_busy(true);
        a.set_message(SharedString::new());
        c.background(
            move |k| tokio::runtime::Handle::current().block_on(k.pair_with_hub(&url, &code)),
            |w, _, r| {
                let a = w.global::<HubAdapter>();
                a.set_busy(false);
                match r {
                    Ok(done) => {
                        a.set_code(SharedString::new());
                        a.set_paired(paired_text(&done.url, &done.till_id).into());
                    }
                    Err(e) => a.set_message(Text::of(w).error(&e).into()),
                }
            },
        );
    });
    let c = ctx.clone();
    a.on_close(move || {
        let Some(w) = c.weak.upgrade() else { return };
        let a = w.global::<HubAdapter>();
        if !a.get_busy() {
            a.set_open(false);
        }
    });
}

/// Opens the dialog: which hub the till is paired with, or empty fields.
fn open(c: &Ctx) {
    c.background(
        |k| k.hub_link(),
        |w, _, r| {
            let a = w.global::<HubAdapter>();
            a.set_busy(false);
            a.set_field(0);
            a.set_code(SharedString::new());
            a.set_url("https://".into());
            a.set_message(SharedString::new());
            match r {
                Ok(Some(hub)) => a.set_paired(paired_text(&hub.url, &hub.till_id).into()),
                Ok(None) => a.set_paired(SharedString::new()),
                Err(e) => {
                    a.set_paired(SharedString::new());
                    a.set_message(Text::of(w).error(&e).into());
                }
            }
            a.set_open(true);
        },
    );
}

fn paired_text(url: &str, till: &str) -> String {
    format!("{url} ({till})")
}

/// A key on the address (field 0) or the code (field 1): the on-screen
/// keyboard's keys, "back", "clear", or what a USB keyboard or scanner
/// typed. A space or Tab in the address moves on to the code, so a scan of
/// "ADDRESS CODE" fills both. Codes read in capitals. Returns the new
/// address, code and field.
fn typed(url: &str, code: &str, field: i32, key: &str) -> (String, String, i32) {
    let (mut url, mut code, mut field) = (url.to_string(), code.to_string(), field);
    match key {
        "back" => {
            if field == 0 {
                url.pop();
            } else {
                code.pop();
            }
        }
        "clear" => {
            if field == 0 {
                url.clear();
            } else {
                code.clear();
            }
        }
        "https://" if field == 0 => url = key.to_string(),
        _ => {
            for ch in key.chars() {
                if (ch == ' ' || ch == '\t') && field == 0 {
                    field = 1;
                } else if ch.is_control() || ch.is_whitespace() {
                    continue;
                } else if field == 0 {
                    if url.chars().count() < MAX_URL {
                        url.push(ch);
                    }
                } else if code.chars().count() < MAX_CODE {
                    code.push(ch.to_ascii_uppercase());
                }
            }
        }
    }
    (url, code, field)
}

#[cfg(test)]
mod tests {
    use super::typed;

    #[test]
    fn keys_edit_the_chosen_field_and_a_scan_fills_both() {
        assert_eq!(
            typed("https://", "", 0, "h"),
            ("https://h".into(), "".into(), 0)
        );
        assert_eq!(typed("https://h", "", 0, "back").0, "https://");
        assert_eq!(typed("https://hub", "AB", 0, "clear").0, "");
        assert_eq!(typed("", "AB", 1, "clear").1, "");
        assert_eq!(typed("x", "", 0, "https://").0, "https://");
        assert_eq!(typed("u", "AB", 1, "c"), ("u".into(), "ABC".into(), 1));
        // A scanner types "ADDRESS CODE" then Enter (handled as connect).
        let mut s = ("".to_string(), "".to_string(), 0);
        for ch in "https://hub.klubb.no k7m2q-x9p4r".chars() {
            s = typed(&s.0, &s.1, s.2, &ch.to_string());
        }
        assert_eq!(s, ("https://hub.klubb.no".into(), "K7M2Q-X9P4R".into(), 1));
        // Control characters never land in a field.
        assert_eq!(typed("a", "", 0, "\u{7}").0, "a");
        let long = "x".repeat(500);
        assert_eq!(typed("", "", 0, &long).0.len(), super::MAX_URL);
    }
}
