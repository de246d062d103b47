//! Editing actions applied to an [`Editor`]: the message being typed, or the search text.

use crate::action::Action;
use crate::editor::Editor;

/// Applies an editing action to `e`; false when `a` is not one.
pub(super) fn edit(e: &mut Editor, a: &Action) -> bool {
    match a {
        Action::Insert(c) => e.insert(*c),
        Action::Paste(s) => e.insert_str(s),
        Action::Newline => e.insert('\n'),
        Action::Backspace => e.backspace(),
        Action::Delete => e.delete(),
        Action::Left => e.left(),
        Action::Right => e.right(),
        Action::WordLeft => e.word_left(),
        Action::WordRight => e.word_right(),
        Action::LineStart => e.line_start(),
        Action::LineEnd => e.line_end(),
        Action::Up => {
            e.up();
        }
        Action::Down => {
            e.down();
        }
        Action::DeleteWord => e.delete_word_before(),
        Action::ClearInput => {
            e.take();
        }
        _ => return false,
    }
    true
}
