//! The body of a frame: a JSON envelope `{"CmdName":"NAME","Args":[..],"AnyData":{..}}`,
//! or a bare JSON object (the monitor beat on `/sysctrl/monitor`).

use bytes::Bytes;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use super::frame::encode_frame;

/// A command as it travels: its name, its string arguments, and optional structured data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    #[serde(rename = "CmdName")]
    pub cmd: String,
    /// Go encodes an empty slice as `null`; both decode to no arguments.
    #[serde(rename = "Args", default, deserialize_with = "null_as_empty")]
    pub args: Vec<String>,
    #[serde(
        rename = "AnyData",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "null_as_none"
    )]
    pub any_data: Option<Value>,
}

fn null_as_empty<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(Option::<Vec<String>>::deserialize(d)?.unwrap_or_default())
}

fn null_as_none<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Ok(Option::<Value>::deserialize(d)?.filter(|v| !v.is_null()))
}

impl Envelope {
    pub fn new(cmd: impl Into<String>, args: Vec<String>) -> Self {
        Self {
            cmd: cmd.into(),
            args,
            any_data: None,
        }
    }

    pub fn with_data(mut self, data: Value) -> Self {
        self.any_data = Some(data);
        self
    }

    /// The JSON body, with the trailing newline the original encoder writes.
    pub fn to_body(&self) -> Vec<u8> {
        let mut body = serde_json::to_vec(self).expect("an envelope always serializes");
        body.push(b'\n');
        body
    }

    /// The whole frame, header included, ready for the socket.
    pub fn to_frame(&self) -> Bytes {
        encode_frame(&self.to_body())
    }
}

/// A decoded body.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    Envelope(Envelope),
    /// A JSON object without `CmdName`: the monitor beat.
    Bare(Map<String, Value>),
}

/// Why a body is not a valid envelope; answered with `ERROR BAD_JSON`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    #[error("body is not valid UTF-8 JSON: {0}")]
    Json(String),
    #[error("body is JSON but not an object")]
    NotObject,
    #[error("envelope is malformed: {0}")]
    Envelope(String),
}

impl Body {
    /// Parses a frame body. Leading and trailing whitespace is accepted.
    pub fn parse(body: &[u8]) -> Result<Body, BodyError> {
        // Nearly every body is a well-formed envelope: read it straight into one, without
        // building a `Value` first. Anything else (a bare object, an error to name) takes
        // the general way below, which decides as it always has.
        if let Ok(env) = serde_json::from_slice::<Envelope>(body) {
            return Ok(Body::Envelope(env));
        }
        let value: Value =
            serde_json::from_slice(body).map_err(|e| BodyError::Json(e.to_string()))?;
        let Value::Object(map) = value else {
            return Err(BodyError::NotObject);
        };
        if !map.contains_key("CmdName") {
            return Ok(Body::Bare(map));
        }
        serde_json::from_value(Value::Object(map))
            .map(Body::Envelope)
            .map_err(|e| BodyError::Envelope(e.to_string()))
    }

    /// Parses a body that must be an envelope.
    pub fn parse_envelope(body: &[u8]) -> Result<Envelope, BodyError> {
        match Body::parse(body)? {
            Body::Envelope(e) => Ok(e),
            Body::Bare(_) => Err(BodyError::Envelope("missing CmdName".into())),
        }
    }
}

/// Frames a bare JSON object (the monitor beat).
#[cfg(feature = "server")]
pub(crate) fn bare_frame(value: &Value) -> Bytes {
    let mut body = serde_json::to_vec(value).expect("a JSON value always serializes");
    body.push(b'\n');
    encode_frame(&body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn encodes_like_the_original() {
        let e = Envelope::new("REQ_MSG_SERVER", vec![]);
        let frame = e.to_frame();
        let mut expected = vec![0, 0, 0, 0x27];
        expected.extend_from_slice(b"{\"CmdName\":\"REQ_MSG_SERVER\",\"Args\":[]}\n");
        assert_eq!(&frame[..], &expected[..]);
    }

    #[test]
    fn accepts_go_nulls_and_whitespace() {
        let e = Body::parse_envelope(
            b"  {\"CmdName\":\"SEND_PING\",\"Args\":null,\"AnyData\":null}\r\n ",
        )
        .unwrap();
        assert_eq!(e, Envelope::new("SEND_PING", vec![]));
        let e = Body::parse_envelope(b"{\"CmdName\":\"SEND_PING\"}").unwrap();
        assert!(e.args.is_empty());
    }

    #[test]
    fn names_what_is_wrong() {
        assert!(matches!(Body::parse(b"{nope"), Err(BodyError::Json(_))));
        assert!(matches!(Body::parse(b"[1,2]"), Err(BodyError::NotObject)));
        let err = Body::parse(b"{\"CmdName\":\"X\",\"Args\":[1]}").unwrap_err();
        assert!(matches!(err, BodyError::Envelope(_)), "{err:?}");
        assert!(matches!(
            Body::parse_envelope(b"{\"SessionNum\":3}"),
            Err(BodyError::Envelope(_))
        ));
    }

    #[test]
    fn bare_objects_are_beats() {
        match Body::parse(b"{\"SessionNum\":3}\n").unwrap() {
            Body::Bare(m) => assert_eq!(m["SessionNum"], json!(3)),
            other => panic!("{other:?}"),
        }
    }

    proptest! {
        #[test]
        fn envelope_round_trips(cmd in "[A-Z_]{1,20}", args in prop::collection::vec(".*", 0..5), data in prop::option::of(any::<i64>())) {
            let mut e = Envelope::new(cmd, args);
            e.any_data = data.map(|d| json!({"N": d}));
            let body = e.to_body();
            prop_assert_eq!(Body::parse_envelope(&body).unwrap(), e.clone());
            // Without the trailing newline too.
            prop_assert_eq!(Body::parse_envelope(&body[..body.len() - 1]).unwrap(), e);
        }
    }
}
