//! Word wrapping of styled text, for the message list: words move whole to the next line,
//! a word longer than a line is cut, and a line break in the text is kept. Control
//! characters never reach the terminal (a tab is four spaces, the rest `�`).

use ratatui::text::Span;
use unicode_width::UnicodeWidthChar;

/// Display width of `s` as [`wrap`] counts it.
pub fn width(s: &str) -> usize {
    s.chars().map(char_width).sum()
}

/// `s` cut to `w` columns, ending in `…` where it was cut.
pub fn ellipsize(s: &str, w: usize) -> String {
    if width(s) <= w {
        return s.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let cw = char_width(c);
        if used + cw + 1 > w {
            break;
        }
        out.push(c);
        used += cw;
    }
    out.push('…');
    out
}

fn char_width(c: char) -> usize {
    match c {
        '\t' => 4,
        c if c.is_control() => 1,
        c => c.width().unwrap_or(0),
    }
}

/// Text safe to draw: tabs as spaces, other control characters (but `\n`) as `�`.
pub fn clean(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' => out.push('\n'),
            '\t' => out.push_str("    "),
            c if c.is_control() => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Wraps `spans` into lines at most `width` columns wide, keeping each piece's style.
pub fn wrap(spans: &[Span<'static>], width: usize) -> Vec<Vec<Span<'static>>> {
    let width = width.max(1);
    let mut lines: Vec<Vec<Span<'static>>> = vec![Vec::new()];
    let mut used = 0usize;
    // Whether the current line began by wrapping (so leading spaces are dropped).
    let mut soft = false;

    for span in spans {
        let style = span.style;
        let text = clean(&span.content);
        for token in tokens(&text) {
            match token {
                Token::Break => {
                    lines.push(Vec::new());
                    used = 0;
                    soft = false;
                }
                Token::Space(s) => {
                    if used == 0 && soft {
                        continue;
                    }
                    let w = width_of(s);
                    if used + w > width {
                        soft_break(&mut lines);
                        used = 0;
                        soft = true;
                        continue;
                    }
                    push(&mut lines, s, style);
                    used += w;
                }
                Token::Word(s) => {
                    let w = width_of(s);
                    if used + w <= width {
                        push(&mut lines, s, style);
                        used += w;
                        continue;
                    }
                    if used > 0 && w <= width {
                        soft_break(&mut lines);
                        soft = true;
                        push(&mut lines, s, style);
                        used = w;
                        continue;
                    }
                    // Longer than a line: cut it where it overflows.
                    let mut piece = String::new();
                    for c in s.chars() {
                        let cw = char_width(c);
                        if used + cw > width && used > 0 {
                            if !piece.is_empty() {
                                push(&mut lines, &piece, style);
                                piece.clear();
                            }
                            soft_break(&mut lines);
                            soft = true;
                            used = 0;
                        }
                        piece.push(c);
                        used += cw;
                    }
                    if !piece.is_empty() {
                        push(&mut lines, &piece, style);
                    }
                }
            }
        }
    }
    lines
}

/// Ends the line where a wrap falls: its trailing spaces go, a new line starts.
fn soft_break(lines: &mut Vec<Vec<Span<'static>>>) {
    if let Some(line) = lines.last_mut() {
        while let Some(last) = line.last_mut() {
            let kept = last.content.trim_end_matches(' ').len();
            if kept > 0 {
                last.content.to_mut().truncate(kept);
                break;
            }
            line.pop();
        }
    }
    lines.push(Vec::new());
}

fn width_of(s: &str) -> usize {
    s.chars().map(char_width).sum()
}

fn push(lines: &mut [Vec<Span<'static>>], s: &str, style: ratatui::style::Style) {
    let line = lines.last_mut().expect("there is always a line");
    match line.last_mut() {
        Some(last) if last.style == style => last.content.to_mut().push_str(s),
        _ => line.push(Span::styled(s.to_string(), style)),
    }
}

enum Token<'a> {
    Word(&'a str),
    Space(&'a str),
    Break,
}

fn tokens(s: &str) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut kind: Option<bool> = None; // Some(true): in a space run
    for (i, c) in s.char_indices() {
        if c == '\n' {
            if let Some(k) = kind.take() {
                out.push(if k {
                    Token::Space(&s[start..i])
                } else {
                    Token::Word(&s[start..i])
                });
            }
            out.push(Token::Break);
            start = i + 1;
            continue;
        }
        let space = c == ' ';
        match kind {
            Some(k) if k == space => {}
            Some(k) => {
                out.push(if k {
                    Token::Space(&s[start..i])
                } else {
                    Token::Word(&s[start..i])
                });
                start = i;
                kind = Some(space);
            }
            None => {
                start = i;
                kind = Some(space);
            }
        }
    }
    if let Some(k) = kind {
        out.push(if k {
            Token::Space(&s[start..])
        } else {
            Token::Word(&s[start..])
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::style::Style;

    fn text(lines: &[Vec<Span<'static>>]) -> Vec<String> {
        lines
            .iter()
            .map(|l| l.iter().map(|s| s.content.as_ref()).collect())
            .collect()
    }

    #[test]
    fn words_move_whole_and_long_words_are_cut() {
        let spans = [Span::raw("the quick brown fox jumps")];
        assert_eq!(text(&wrap(&spans, 10)), ["the quick", "brown fox", "jumps"]);
        let spans = [Span::raw("abcdefghijkl xy")];
        assert_eq!(text(&wrap(&spans, 5)), ["abcde", "fghij", "kl xy"]);
    }

    #[test]
    fn line_breaks_and_indentation_are_kept() {
        let spans = [Span::raw("one\n  two\n\nthree")];
        assert_eq!(text(&wrap(&spans, 20)), ["one", "  two", "", "three"]);
    }

    #[test]
    fn styles_survive_wrapping() {
        let spans = [
            Span::raw("hello "),
            Span::styled("✓✓", Style::new().green()),
        ];
        let lines = wrap(&spans, 7);
        assert_eq!(text(&lines), ["hello", "✓✓"]);
        assert_eq!(lines[1][0].style, Style::new().green());
    }

    #[test]
    fn wide_characters_count_double_and_control_characters_are_defused() {
        let spans = [Span::raw("日本語です")];
        assert_eq!(text(&wrap(&spans, 4)), ["日本", "語で", "す"]);
        assert_eq!(clean("a\x1b[2Jb\tc"), "a\u{FFFD}[2Jb    c");
        assert_eq!(width("a\tb"), 6);
    }
}
