//! A small multi-line text editor: the message being composed, or the search query.
//!
//! Plain state (text and a cursor), no terminal: [`crate::app`] applies editing actions
//! to it and [`crate::ui::input`] draws it.

/// Text and a cursor (a byte offset, always on a character boundary).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Editor {
    text: String,
    cursor: usize,
}

impl Editor {
    /// An editor holding `text`, the cursor at its end.
    pub fn with_text(text: impl Into<String>) -> Editor {
        let text = text.into();
        let cursor = text.len();
        Editor { text, cursor }
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn cursor(&self) -> usize {
        self.cursor
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// Empties the editor, returning what it held.
    pub fn take(&mut self) -> String {
        self.cursor = 0;
        std::mem::take(&mut self.text)
    }

    pub fn insert(&mut self, c: char) {
        self.text.insert(self.cursor, c);
        self.cursor += c.len_utf8();
    }

    /// Inserts pasted text; line ends become `\n`, other control characters but tabs go.
    pub fn insert_str(&mut self, s: &str) {
        let clean: String = s
            .replace("\r\n", "\n")
            .replace('\r', "\n")
            .chars()
            .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
            .collect();
        self.text.insert_str(self.cursor, &clean);
        self.cursor += clean.len();
    }

    pub fn backspace(&mut self) {
        if let Some(c) = self.text[..self.cursor].chars().next_back() {
            self.cursor -= c.len_utf8();
            self.text.remove(self.cursor);
        }
    }

    pub fn delete(&mut self) {
        if self.cursor < self.text.len() {
            self.text.remove(self.cursor);
        }
    }

    pub fn left(&mut self) {
        if let Some(c) = self.text[..self.cursor].chars().next_back() {
            self.cursor -= c.len_utf8();
        }
    }

    pub fn right(&mut self) {
        if let Some(c) = self.text[self.cursor..].chars().next() {
            self.cursor += c.len_utf8();
        }
    }

    /// To the start of the word before the cursor.
    pub fn word_left(&mut self) {
        self.cursor = self.word_start_before();
    }

    /// To the end of the word after the cursor.
    pub fn word_right(&mut self) {
        let rest = &self.text[self.cursor..];
        let skip_space = rest.len() - rest.trim_start().len();
        let word = rest[skip_space..]
            .find(char::is_whitespace)
            .unwrap_or(rest.len() - skip_space);
        self.cursor += skip_space + word;
    }

    /// Deletes from the start of the word before the cursor up to the cursor.
    pub fn delete_word_before(&mut self) {
        let start = self.word_start_before();
        self.text.replace_range(start..self.cursor, "");
        self.cursor = start;
    }

    fn word_start_before(&self) -> usize {
        let before = &self.text[..self.cursor];
        let trimmed = before.trim_end();
        trimmed.rfind(char::is_whitespace).map_or(0, |i| {
            i + trimmed[i..].chars().next().map_or(1, char::len_utf8)
        })
    }

    /// To the start of the cursor's line.
    pub fn line_start(&mut self) {
        self.cursor = self.text[..self.cursor].rfind('\n').map_or(0, |i| i + 1);
    }

    /// To the end of the cursor's line.
    pub fn line_end(&mut self) {
        self.cursor += self.text[self.cursor..]
            .find('\n')
            .unwrap_or(self.text.len() - self.cursor);
    }

    /// To the line above, at the same column (in characters) where it is long enough.
    /// Returns false on the first line.
    pub fn up(&mut self) -> bool {
        let start = self.text[..self.cursor].rfind('\n').map_or(0, |i| i + 1);
        if start == 0 {
            return false;
        }
        let col = self.text[start..self.cursor].chars().count();
        let prev_start = self.text[..start - 1].rfind('\n').map_or(0, |i| i + 1);
        self.cursor = advance(&self.text, prev_start, start - 1, col);
        true
    }

    /// To the line below, at the same column where it is long enough. Returns false on
    /// the last line.
    pub fn down(&mut self) -> bool {
        let Some(nl) = self.text[self.cursor..].find('\n').map(|i| self.cursor + i) else {
            return false;
        };
        let start = self.text[..self.cursor].rfind('\n').map_or(0, |i| i + 1);
        let col = self.text[start..self.cursor].chars().count();
        let next_start = nl + 1;
        let next_end = self.text[next_start..]
            .find('\n')
            .map_or(self.text.len(), |i| next_start + i);
        self.cursor = advance(&self.text, next_start, next_end, col);
        true
    }
}

/// The offset `col` characters after `from`, but not past `end`.
fn advance(text: &str, from: usize, end: usize, col: usize) -> usize {
    text[from..end]
        .char_indices()
        .nth(col)
        .map_or(end, |(i, _)| from + i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(s: &str) -> Editor {
        let mut e = Editor::default();
        for c in s.chars() {
            e.insert(c);
        }
        e
    }

    #[test]
    fn typing_and_deleting_handle_multibyte_characters() {
        let mut e = typed("héllo wörld");
        e.backspace();
        assert_eq!(e.text(), "héllo wörl");
        e.word_left();
        assert_eq!(&e.text()[e.cursor()..], "wörl");
        e.left();
        e.left();
        e.delete();
        assert_eq!(e.text(), "héll wörl");
        e.line_start();
        e.right();
        e.right();
        e.insert('!');
        assert_eq!(e.text(), "hé!ll wörl");
        e.line_end();
        e.delete_word_before();
        assert_eq!(e.text(), "hé!ll ");
        assert_eq!(e.take(), "hé!ll ");
        assert!(e.is_empty());
        assert_eq!(e.cursor(), 0);
    }

    #[test]
    fn up_and_down_keep_the_column() {
        let mut e = typed("first line\nab\nthird line");
        assert!(e.up());
        assert_eq!(&e.text()[e.cursor()..], "\nthird line");
        // The short line clamped the column to 2; it stays there.
        assert!(e.up());
        assert_eq!(&e.text()[e.cursor()..], "rst line\nab\nthird line");
        assert!(!e.up());
        assert!(e.down());
        assert!(e.down());
        assert_eq!(&e.text()[e.cursor()..], "ird line");
        assert!(!e.down());
    }

    #[test]
    fn paste_normalises_line_ends_and_drops_control_characters() {
        let mut e = Editor::default();
        e.insert_str("a\r\nb\rc\x1b[31md\te");
        assert_eq!(e.text(), "a\nb\nc[31md\te");
        assert_eq!(e.cursor(), e.text().len());
    }

    #[test]
    fn words_move_over_spaces() {
        let mut e = Editor::with_text("one  two three");
        e.line_start();
        e.word_right();
        assert_eq!(e.cursor(), 3);
        e.word_right();
        assert_eq!(e.cursor(), 8);
        e.delete_word_before();
        assert_eq!(e.text(), "one   three");
    }
}
