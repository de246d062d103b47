//! Framing: a 4-byte big-endian length, then that many bytes of body.
//!
//! This layer knows nothing of JSON; [`super::envelope`] gives the body its meaning. The
//! original accepts any length up to 4 GiB; we refuse frames longer than a configured
//! maximum, which is the one decoding error that ends a connection.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

/// The default maximum body length: 1 MiB.
pub const DEFAULT_MAX_FRAME: usize = 1 << 20;

/// Length of the frame header.
pub(crate) const HEADER_LEN: usize = 4;

/// What can go wrong while reading frames. Both end the connection.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("frame of {len} bytes is longer than the maximum of {max} bytes")]
    TooLong { len: usize, max: usize },
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// A tokio codec for FishChat frames: decodes to the body, encodes a body with its header.
#[derive(Debug, Clone, Copy)]
pub struct FrameCodec {
    max_len: usize,
}

impl FrameCodec {
    pub fn new(max_len: usize) -> Self {
        Self { max_len }
    }

    pub fn max_len(&self) -> usize {
        self.max_len
    }
}

impl Default for FrameCodec {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_FRAME)
    }
}

impl Decoder for FrameCodec {
    type Item = Bytes;
    type Error = FrameError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, FrameError> {
        if src.len() < HEADER_LEN {
            return Ok(None);
        }
        let len = u32::from_be_bytes([src[0], src[1], src[2], src[3]]) as usize;
        if len > self.max_len {
            return Err(FrameError::TooLong {
                len,
                max: self.max_len,
            });
        }
        let total = HEADER_LEN + len;
        if src.len() < total {
            src.reserve(total - src.len());
            return Ok(None);
        }
        src.advance(HEADER_LEN);
        Ok(Some(src.split_to(len).freeze()))
    }
}

impl Encoder<Bytes> for FrameCodec {
    type Error = FrameError;

    /// Encodes an already framed message (see [`encode_frame`]) as it is.
    fn encode(&mut self, frame: Bytes, dst: &mut BytesMut) -> Result<(), FrameError> {
        dst.extend_from_slice(&frame);
        Ok(())
    }
}

/// Frames `body`: the header, then the body. The result is written to sockets as it is,
/// so one encoded message can be shared by every receiver of a broadcast.
pub fn encode_frame(body: &[u8]) -> Bytes {
    let mut out = BytesMut::with_capacity(HEADER_LEN + body.len());
    out.put_u32(body.len() as u32);
    out.extend_from_slice(body);
    out.freeze()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn decode_all(codec: &mut FrameCodec, chunks: &[&[u8]]) -> Result<Vec<Bytes>, FrameError> {
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        for chunk in chunks {
            buf.extend_from_slice(chunk);
            while let Some(body) = codec.decode(&mut buf)? {
                out.push(body);
            }
        }
        assert!(buf.is_empty(), "bytes left over after the last frame");
        Ok(out)
    }

    #[test]
    fn decodes_the_contract_example_byte_for_byte() {
        let mut wire = vec![0, 0, 0, 0x27];
        wire.extend_from_slice(b"{\"CmdName\":\"REQ_MSG_SERVER\",\"Args\":[]}\n");
        let bodies = decode_all(&mut FrameCodec::default(), &[&wire]).unwrap();
        assert_eq!(bodies.len(), 1);
        assert_eq!(&bodies[0][..], &wire[4..]);
    }

    #[test]
    fn refuses_a_frame_over_the_maximum_from_its_header_alone() {
        let mut codec = FrameCodec::new(16);
        let mut buf = BytesMut::from(&[0xff, 0xff, 0xff, 0xff][..]);
        match codec.decode(&mut buf) {
            Err(FrameError::TooLong { len, max }) => {
                assert_eq!(len, u32::MAX as usize);
                assert_eq!(max, 16);
            }
            other => panic!("expected TooLong, got {other:?}"),
        }
        // A frame of exactly the maximum is accepted.
        let frame = encode_frame(&[b'x'; 16]);
        assert_eq!(decode_all(&mut codec, &[&frame]).unwrap()[0].len(), 16);
    }

    proptest! {
        #[test]
        fn encode_then_decode_is_identity(bodies in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 0..8)) {
            let mut wire = Vec::new();
            for b in &bodies {
                wire.extend_from_slice(&encode_frame(b));
            }
            let decoded = decode_all(&mut FrameCodec::default(), &[&wire]).unwrap();
            let decoded: Vec<Vec<u8>> = decoded.iter().map(|b| b.to_vec()).collect();
            prop_assert_eq!(decoded, bodies);
        }

        #[test]
        fn any_split_decodes_the_same(bodies in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..100), 1..5), cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..6)) {
            let mut wire = Vec::new();
            for b in &bodies {
                wire.extend_from_slice(&encode_frame(b));
            }
            let mut points: Vec<usize> = cuts.iter().map(|i| i.index(wire.len() + 1)).collect();
            points.sort_unstable();
            let mut chunks = Vec::new();
            let mut last = 0;
            for p in points {
                chunks.push(&wire[last..p]);
                last = p;
            }
            chunks.push(&wire[last..]);
            let whole = decode_all(&mut FrameCodec::default(), &[&wire]).unwrap();
            let split = decode_all(&mut FrameCodec::default(), &chunks).unwrap();
            prop_assert_eq!(whole, split);
        }
    }
}
