//! A small streaming XML writer: elements, escaped text, length limits,
//! tab indentation. Enough for SAF-T; never buffers the whole document.

use std::io::Write;

pub struct Xml<W: Write> {
    w: W,
    depth: usize,
    pub bytes: u64,
}

/// Text safe for XML 1.0 character data: escapes markup, drops control
/// characters XML cannot carry, and cuts to `max` characters.
pub fn clean(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max));
    for c in text
        .chars()
        .filter(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r'))
        .take(max)
    {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

impl<W: Write> Xml<W> {
    pub fn new(w: W) -> Xml<W> {
        Xml {
            w,
            depth: 0,
            bytes: 0,
        }
    }

    fn put(&mut self, s: &str) -> std::io::Result<()> {
        self.bytes += s.len() as u64;
        self.w.write_all(s.as_bytes())
    }

    fn indent(&mut self) -> std::io::Result<()> {
        let tabs = "\t".repeat(self.depth);
        self.put(&tabs)
    }

    pub fn raw_line(&mut self, s: &str) -> std::io::Result<()> {
        self.put(s)?;
        self.put("\n")
    }

    pub fn open(&mut self, tag: &str) -> std::io::Result<()> {
        self.indent()?;
        self.put(&format!("<{tag}>\n"))?;
        self.depth += 1;
        Ok(())
    }

    pub fn close(&mut self, tag: &str) -> std::io::Result<()> {
        self.depth = self.depth.saturating_sub(1);
        self.indent()?;
        self.put(&format!("</{tag}>\n"))
    }

    /// `<tag>text</tag>`, with `text` escaped and cut to `max` characters.
    pub fn leaf(&mut self, tag: &str, text: &str, max: usize) -> std::io::Result<()> {
        self.indent()?;
        let line = format!("<{tag}>{}</{tag}>\n", clean(text, max));
        self.put(&line)
    }

    /// A leaf whose text is already known to be clean (numbers, dates, codes).
    pub fn val(&mut self, tag: &str, text: impl std::fmt::Display) -> std::io::Result<()> {
        self.indent()?;
        let line = format!("<{tag}>{text}</{tag}>\n");
        self.put(&line)
    }

    pub fn finish(mut self) -> std::io::Result<(W, u64)> {
        self.w.flush()?;
        Ok((self.w, self.bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_strips_controls_and_cuts() {
        assert_eq!(
            clean("Kaffe & <vaffel> \"x\"", 100),
            "Kaffe &amp; &lt;vaffel&gt; &quot;x&quot;"
        );
        assert_eq!(clean("a\u{1}b", 100), "ab");
        assert_eq!(clean("æøåæøå", 3), "æøå");
        let mut x = Xml::new(Vec::new());
        x.open("a").unwrap();
        x.leaf("b", "1 < 2", 10).unwrap();
        x.close("a").unwrap();
        let (bytes, n) = x.finish().unwrap();
        let text = String::from_utf8(bytes).unwrap();
        assert_eq!(text, "<a>\n\t<b>1 &lt; 2</b>\n</a>\n");
        assert_eq!(n as usize, text.len());
    }
}
