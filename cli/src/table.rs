//! A small column formatter for tables on the terminal (`fishchat-admin inspect`): a header
//! row, then rows, each column as wide as its widest cell (in terminal columns, so ids in
//! CJK line up, and not counting colour codes), numbers right-aligned. Pipes get JSON
//! instead, so this never has to be parsed.

use unicode_width::UnicodeWidthStr;

/// Columns `s` takes on a terminal: wide characters count twice, colour codes not at all.
fn width(s: &str) -> usize {
    anstream::adapter::strip_str(s).to_string().width()
}

/// Spaces between columns.
const GAP: usize = 2;

/// A table being built.
#[derive(Debug, Clone)]
pub struct Table {
    headers: Vec<String>,
    right: Vec<bool>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column headers, every column left-aligned.
    pub fn new(headers: &[&str]) -> Table {
        Table {
            headers: headers.iter().map(|h| h.to_string()).collect(),
            right: vec![false; headers.len()],
            rows: Vec::new(),
        }
    }

    /// Right-aligns the columns at these indexes (numbers).
    pub fn right(mut self, columns: &[usize]) -> Table {
        for &c in columns {
            if let Some(r) = self.right.get_mut(c) {
                *r = true;
            }
        }
        self
    }

    /// Adds a row; missing cells are empty, extra cells are dropped.
    pub fn row(&mut self, cells: Vec<String>) {
        let mut cells = cells;
        cells.resize(self.headers.len(), String::new());
        self.rows.push(cells);
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The table as lines, each ending in `\n`, without trailing spaces. `header` styles the
    /// header row (pass `|s| s.to_string()` for none).
    pub fn render(&self, header: impl Fn(&str) -> String) -> String {
        let mut widths: Vec<usize> = self.headers.iter().map(|h| width(h)).collect();
        for row in &self.rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(width(cell));
            }
        }
        let mut out = String::new();
        let line = |out: &mut String, cells: &[String], style: &dyn Fn(&str) -> String| {
            let mut text = String::new();
            let last = cells.len().saturating_sub(1);
            for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
                let pad = " ".repeat(w.saturating_sub(width(cell)));
                if self.right[i] {
                    text.push_str(&pad);
                    text.push_str(&style(cell));
                } else {
                    text.push_str(&style(cell));
                    if i < last {
                        text.push_str(&pad);
                    }
                }
                if i < last {
                    text.push_str(&" ".repeat(GAP));
                }
            }
            out.push_str(text.trim_end());
            out.push('\n');
        };
        line(&mut out, &self.headers, &header);
        for row in &self.rows {
            line(&mut out, row, &|s: &str| s.to_string());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_line_up_and_numbers_go_right() {
        let mut t = Table::new(&["ID", "CONNS", "WHERE"]).right(&[1]);
        t.row(vec!["alice".into(), "2".into(), "127.0.0.1:19000".into()]);
        t.row(vec!["bo".into(), "10".into()]);
        assert_eq!(
            t.render(|s| s.to_string()),
            "ID     CONNS  WHERE\n\
             alice      2  127.0.0.1:19000\n\
             bo        10\n"
        );
    }

    #[test]
    fn wide_characters_count_as_two_columns() {
        let mut t = Table::new(&["ID", "N"]);
        t.row(vec!["小明".into(), "1".into()]);
        t.row(vec!["bob".into(), "2".into()]);
        assert_eq!(t.render(|s| s.to_string()), "ID    N\n小明  1\nbob   2\n");
    }

    #[test]
    fn colour_codes_take_no_room() {
        let mut t = Table::new(&["STATE", "N"]);
        t.row(vec!["\u{1b}[32mup\u{1b}[0m".into(), "1".into()]);
        let plain = anstream::adapter::strip_str(&t.render(|s| s.to_string())).to_string();
        assert_eq!(plain, "STATE  N\nup     1\n");
    }

    #[test]
    fn the_header_style_does_not_upset_the_widths() {
        let mut t = Table::new(&["A", "B"]);
        t.row(vec!["xyz".into(), "1".into()]);
        assert_eq!(t.render(|s| format!("<{s}>")), "<A>    <B>\nxyz  1\n");
    }
}
