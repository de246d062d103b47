//! Reading a command's arguments: in order, each by its name, leftovers refused.

use serde_json::Value;

use super::super::error_code::{ErrorCode, UnknownErrorCode};
use super::{clip, CommandError, MAX_NAME_LEN, QUOTED};

/// Reads arguments in order, by name, and refuses leftovers.
pub(super) struct Args<'a> {
    pub(super) cmd: &'a str,
    pub(super) args: std::vec::IntoIter<String>,
    pub(super) data: Option<Value>,
}

impl<'a> Args<'a> {
    pub(super) fn bad(&self, detail: String) -> CommandError {
        CommandError::BadArgs {
            cmd: self.cmd.to_string(),
            detail,
        }
    }

    /// A required argument that may be empty (message bodies).
    pub(super) fn text(&mut self, name: &str) -> Result<String, CommandError> {
        self.args
            .next()
            .ok_or_else(|| self.bad(format!("missing argument `{name}`")))
    }

    /// A required, non-empty name (ids, topics, uuids).
    pub(super) fn name(&mut self, name: &str) -> Result<String, CommandError> {
        let v = self.text(name)?;
        self.check_name(name, &v)?;
        Ok(v)
    }

    pub(super) fn check_name(&self, name: &str, v: &str) -> Result<(), CommandError> {
        if v.is_empty() {
            return Err(self.bad(format!("`{name}` must not be empty")));
        }
        if v.len() > MAX_NAME_LEN {
            return Err(self.bad(format!(
                "`{name}` is {} bytes long; the maximum is {MAX_NAME_LEN}",
                v.len()
            )));
        }
        if v.chars().any(char::is_control) {
            return Err(self.bad(format!("`{name}` must not contain control characters")));
        }
        Ok(())
    }

    pub(super) fn opt(&mut self) -> Option<String> {
        self.args.next()
    }

    /// Every argument left (a list at the end, such as `HELLO_OK`'s features).
    pub(super) fn rest(&mut self) -> Vec<String> {
        self.args.by_ref().collect()
    }

    pub(super) fn opt_name(&mut self, name: &str) -> Result<Option<String>, CommandError> {
        match self.args.next() {
            Some(v) => {
                self.check_name(name, &v)?;
                Ok(Some(v))
            }
            None => Ok(None),
        }
    }

    /// An error code, by its name (`ERROR`, `FRAME_DROPPED`).
    pub(super) fn code(&mut self, name: &str) -> Result<ErrorCode, CommandError> {
        let code = self.name(name)?;
        code.parse()
            .map_err(|e: UnknownErrorCode| self.bad(e.to_string()))
    }

    pub(super) fn opt_u64(&mut self, name: &str) -> Result<Option<u64>, CommandError> {
        match self.args.next() {
            Some(v) => v
                .parse()
                .map(Some)
                .map_err(|_| self.bad(format!("`{name}` must be a whole number, got {v:?}"))),
            None => Ok(None),
        }
    }

    pub(super) fn u64(&mut self, name: &str) -> Result<u64, CommandError> {
        self.opt_u64(name)?
            .ok_or_else(|| self.bad(format!("missing argument `{name}`")))
    }

    pub(super) fn data(&mut self) -> Value {
        self.data.take().unwrap_or(Value::Null)
    }

    pub(super) fn finish<T>(mut self, value: T) -> Result<T, CommandError> {
        let left = self.args.len();
        if left > 0 {
            let first = clip(&self.args.next().unwrap_or_default(), QUOTED);
            return Err(self.bad(format!(
                "{left} unexpected extra argument(s), first {first:?}"
            )));
        }
        Ok(value)
    }
}

/// A command's arguments and `AnyData`, as they go on the wire.
pub(super) struct Encoded {
    pub(super) args: Vec<String>,
    pub(super) data: Option<Value>,
}

impl Encoded {
    pub(super) fn args(args: Vec<String>) -> Encoded {
        Encoded { args, data: None }
    }

    pub(super) fn with_data(args: Vec<String>, data: &Value) -> Encoded {
        Encoded {
            args,
            data: Some(data.clone()),
        }
    }
}

/// A family's table of commands: for each, its wire name, the pattern of its variant, how
/// its arguments are read, and how they are written, side by side. It makes the family's
/// `name`, `decode` and `encode`, which [`super::Command`] calls by family.
macro_rules! codec {
    ($( $wire:literal, $pat:pat, |$a:ident| $dec:expr, $enc:expr; )*) => {
        /// The wire name, for the commands of this family.
        #[allow(unused_variables)]
        pub(super) fn name(c: &Command) -> Option<&'static str> {
            match c {
                $( $pat => Some($wire), )*
                _ => None,
            }
        }

        /// Reads the command named `name`, where it is of this family.
        #[allow(unused_variables, clippy::redundant_closure_call)]
        pub(super) fn decode(name: &str, a: &mut Args) -> Option<Result<Command, CommandError>> {
            match name {
                $( $wire => Some((|$a: &mut Args| -> Result<Command, CommandError> { Ok($dec) })(a)), )*
                _ => None,
            }
        }

        /// Writes the arguments, for the commands of this family.
        pub(super) fn encode(c: &Command) -> Option<Encoded> {
            match c {
                $( $pat => Some($enc), )*
                _ => None,
            }
        }
    };
}
pub(super) use codec;
