//! Just enough SPDY/3.1 to be the client of Kubernetes' streaming protocols (exec, attach) on
//! a runtime's streaming server: opening streams (SYN_STREAM with a compressed header block),
//! data frames, answering pings, and reading the frames the server sends. Header blocks the
//! server sends are skipped, not inflated: a client of these protocols never needs them.
//! Ours are deflated without the SPDY dictionary, which zlib readers accept (no FDICT flag).

use flate2::{Compress, Compression, FlushCompress};

/// The SPDY version spoken.
const VERSION: u16 = 3;
/// Data and SYN_STREAM flag: the sender's last frame on the stream.
pub const FLAG_FIN: u8 = 0x01;
const SYN_STREAM: u16 = 1;
const RST_STREAM: u16 = 3;
const PING: u16 = 6;
const GOAWAY: u16 = 7;
/// The largest data frame payload.
pub const MAX_DATA: usize = (1 << 24) - 1;

/// A frame from the server, as far as a streaming client cares.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame {
    /// Bytes on a stream; `fin` ends the server's side of it.
    Data {
        /// The stream.
        stream: u32,
        /// Whether the server is done writing to the stream.
        fin: bool,
        /// The payload.
        data: Vec<u8>,
    },
    /// A ping to answer with the same id.
    Ping(u32),
    /// The stream was reset.
    Reset(u32),
    /// The server is closing the session.
    GoAway,
    /// Anything else (replies, headers, settings, window updates).
    Other,
}

fn control_header(out: &mut Vec<u8>, kind: u16, flags: u8, len: usize) {
    out.extend_from_slice(&(0x8000 | VERSION).to_be_bytes());
    out.extend_from_slice(&kind.to_be_bytes());
    out.extend_from_slice(&((u32::from(flags) << 24) | (len as u32 & 0xff_ffff)).to_be_bytes());
}

/// Writes frames; holds the header compression context (one zlib stream for the session).
pub struct Encoder {
    deflate: Compress,
}

impl Default for Encoder {
    fn default() -> Self {
        Encoder {
            deflate: Compress::new(Compression::default(), true),
        }
    }
}

impl Encoder {
    /// Deflates one header block, ending it with a sync flush so the server can read it whole.
    fn compress(&mut self, input: &[u8]) -> Vec<u8> {
        let start = self.deflate.total_in();
        let mut out = Vec::with_capacity(input.len() + 64);
        loop {
            let consumed = (self.deflate.total_in() - start) as usize;
            if out.capacity() - out.len() < 64 {
                out.reserve(256);
            }
            self.deflate
                .compress_vec(&input[consumed..], &mut out, FlushCompress::Sync)
                .expect("deflating into a growing buffer does not fail");
            let consumed = (self.deflate.total_in() - start) as usize;
            // the flush is complete once input is used up and output space was left over
            if consumed == input.len() && out.len() < out.capacity() {
                return out;
            }
        }
    }

    /// A SYN_STREAM opening client stream `stream` with `headers` (names lowercased).
    pub fn syn_stream(&mut self, stream: u32, headers: &[(&str, &str)]) -> Vec<u8> {
        let mut block = Vec::new();
        block.extend_from_slice(&(headers.len() as u32).to_be_bytes());
        for (name, value) in headers {
            let name = name.to_ascii_lowercase();
            block.extend_from_slice(&(name.len() as u32).to_be_bytes());
            block.extend_from_slice(name.as_bytes());
            block.extend_from_slice(&(value.len() as u32).to_be_bytes());
            block.extend_from_slice(value.as_bytes());
        }
        let compressed = self.compress(&block);
        let mut out = Vec::with_capacity(18 + compressed.len());
        control_header(&mut out, SYN_STREAM, 0, 10 + compressed.len());
        out.extend_from_slice(&(stream & 0x7fff_ffff).to_be_bytes());
        out.extend_from_slice(&0u32.to_be_bytes()); // associated stream
        out.extend_from_slice(&[0, 0]); // priority, slot
        out.extend_from_slice(&compressed);
        out
    }
}

/// Data frames carrying `data` on `stream` (split at the frame limit); `fin` ends our side.
pub fn data(stream: u32, fin: bool, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 8);
    let mut chunks: Vec<&[u8]> = data.chunks(MAX_DATA).collect();
    if chunks.is_empty() {
        chunks.push(&[]);
    }
    let last = chunks.len() - 1;
    for (i, chunk) in chunks.into_iter().enumerate() {
        let flags = if fin && i == last { FLAG_FIN } else { 0 };
        out.extend_from_slice(&(stream & 0x7fff_ffff).to_be_bytes());
        out.extend_from_slice(&((u32::from(flags) << 24) | chunk.len() as u32).to_be_bytes());
        out.extend_from_slice(chunk);
    }
    out
}

/// The answer to a ping.
pub fn ping(id: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(12);
    control_header(&mut out, PING, 0, 4);
    out.extend_from_slice(&id.to_be_bytes());
    out
}

fn word(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Takes the first whole frame off `buf`, if there is one.
pub fn parse(buf: &mut Vec<u8>) -> Option<Frame> {
    if buf.len() < 8 {
        return None;
    }
    let len = (word(buf, 4) & 0xff_ffff) as usize;
    if buf.len() < 8 + len {
        return None;
    }
    let first = word(buf, 0);
    let flags = buf[4];
    let body = &buf[8..8 + len];
    let frame = if first & 0x8000_0000 == 0 {
        Frame::Data {
            stream: first & 0x7fff_ffff,
            fin: flags & FLAG_FIN != 0,
            data: body.to_vec(),
        }
    } else {
        match (first & 0xffff) as u16 {
            PING if len >= 4 => Frame::Ping(word(body, 0)),
            RST_STREAM if len >= 4 => Frame::Reset(word(body, 0) & 0x7fff_ffff),
            GOAWAY => Frame::GoAway,
            _ => Frame::Other,
        }
    };
    buf.drain(..8 + len);
    Some(frame)
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{Decompress, FlushDecompress};

    #[test]
    fn streams_open_with_a_header_block_a_zlib_reader_can_inflate() {
        let mut enc = Encoder::default();
        let mut inflate = Decompress::new(true);
        for (id, kind) in [(1, "error"), (3, "stdout")] {
            let f = enc.syn_stream(id, &[("streamType", kind)]);
            assert_eq!(&f[..4], &[0x80, 0x03, 0x00, 0x01]);
            let len = (word(&f, 4) & 0xff_ffff) as usize;
            assert_eq!(len, f.len() - 8);
            assert_eq!(word(&f, 8), id);
            let mut block = Vec::with_capacity(256);
            inflate
                .decompress_vec(&f[18..], &mut block, FlushDecompress::Sync)
                .unwrap();
            let mut want = vec![0, 0, 0, 1, 0, 0, 0, 10];
            want.extend_from_slice(b"streamtype");
            want.extend_from_slice(&(kind.len() as u32).to_be_bytes());
            want.extend_from_slice(kind.as_bytes());
            assert_eq!(block, want);
        }
    }

    #[test]
    fn frames_are_parsed_whole_and_in_order() {
        let mut buf = data(5, false, b"out");
        buf.extend(ping(7));
        buf.extend(data(1, true, b""));
        let mut reset = Vec::new();
        control_header(&mut reset, RST_STREAM, 0, 8);
        reset.extend_from_slice(&[0, 0, 0, 3, 0, 0, 0, 5]);
        buf.extend(&reset);
        let partial = buf.split_off(buf.len() - 3);
        assert_eq!(
            parse(&mut buf),
            Some(Frame::Data {
                stream: 5,
                fin: false,
                data: b"out".to_vec()
            })
        );
        assert_eq!(parse(&mut buf), Some(Frame::Ping(7)));
        assert_eq!(
            parse(&mut buf),
            Some(Frame::Data {
                stream: 1,
                fin: true,
                data: Vec::new()
            })
        );
        assert_eq!(
            parse(&mut buf),
            None,
            "a frame cut short waits for the rest"
        );
        buf.extend(partial);
        assert_eq!(parse(&mut buf), Some(Frame::Reset(3)));
        assert!(buf.is_empty());
    }
}
