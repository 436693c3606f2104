//! A bounds-checked reader of protobuf wire format.

/// A malformed piece of protobuf wire format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// The input ended inside a field.
    #[error("unexpected end of input")]
    Truncated,
    /// A varint ran past ten bytes.
    #[error("varint longer than ten bytes")]
    VarintTooLong,
    /// A key carried field number zero or one past 2^29-1.
    #[error("invalid field number {0}")]
    BadFieldNumber(u64),
    /// A key carried a wire type protobuf 3 does not define (groups included).
    #[error("unsupported wire type {0}")]
    BadWireType(u8),
    /// A field arrived with a wire type its declared type never uses.
    #[error("field {tag} has wire type {found:?}, expected {expected:?}")]
    WrongWireType {
        /// Field number.
        tag: u32,
        /// Wire type on the wire.
        found: Wire,
        /// Wire type the field's type uses.
        expected: Wire,
    },
}

/// The wire types of protobuf (groups are rejected).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    /// Wire type 0: a varint.
    Varint,
    /// Wire type 1: eight little-endian bytes.
    Fixed64,
    /// Wire type 2: a length-prefixed run of bytes.
    Len,
    /// Wire type 5: four little-endian bytes.
    Fixed32,
}

/// A cursor over one message's bytes.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    /// Starts reading at the first byte.
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf }
    }

    /// Reads the next field key, or `None` at the end of the message.
    pub fn key(&mut self) -> Result<Option<(u32, Wire)>, WireError> {
        if self.buf.is_empty() {
            return Ok(None);
        }
        let key = self.varint()?;
        let number = key >> 3;
        if number == 0 || number > (1 << 29) - 1 {
            return Err(WireError::BadFieldNumber(number));
        }
        let wire = match key & 7 {
            0 => Wire::Varint,
            1 => Wire::Fixed64,
            2 => Wire::Len,
            5 => Wire::Fixed32,
            other => return Err(WireError::BadWireType(other as u8)),
        };
        Ok(Some((number as u32, wire)))
    }

    /// Reads a base-128 varint.
    pub fn varint(&mut self) -> Result<u64, WireError> {
        let mut value = 0u64;
        for (i, &byte) in self.buf.iter().enumerate().take(10) {
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte < 0x80 {
                self.buf = &self.buf[i + 1..];
                return Ok(value);
            }
        }
        if self.buf.len() < 10 {
            Err(WireError::Truncated)
        } else {
            Err(WireError::VarintTooLong)
        }
    }

    /// Reads a length-prefixed run of bytes.
    pub fn len_delimited(&mut self) -> Result<&'a [u8], WireError> {
        let len = self.varint()?;
        let len = usize::try_from(len).map_err(|_| WireError::Truncated)?;
        if len > self.buf.len() {
            return Err(WireError::Truncated);
        }
        let (bytes, rest) = self.buf.split_at(len);
        self.buf = rest;
        Ok(bytes)
    }

    /// Reads eight little-endian bytes.
    pub fn fixed64(&mut self) -> Result<[u8; 8], WireError> {
        let bytes = self.take(8)?;
        Ok(bytes.try_into().unwrap_or_default())
    }

    /// Reads four little-endian bytes.
    pub fn fixed32(&mut self) -> Result<[u8; 4], WireError> {
        let bytes = self.take(4)?;
        Ok(bytes.try_into().unwrap_or_default())
    }

    /// Skips one field's value of the given wire type.
    pub fn skip(&mut self, wire: Wire) -> Result<(), WireError> {
        match wire {
            Wire::Varint => self.varint().map(drop),
            Wire::Fixed64 => self.take(8).map(drop),
            Wire::Len => self.len_delimited().map(drop),
            Wire::Fixed32 => self.take(4).map(drop),
        }
    }

    /// Whether every byte has been read.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        if n > self.buf.len() {
            return Err(WireError::Truncated);
        }
        let (bytes, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(bytes)
    }
}

/// Checks a field's wire type against the one its type uses.
pub fn expect(tag: u32, found: Wire, expected: Wire) -> Result<(), WireError> {
    if found == expected {
        Ok(())
    } else {
        Err(WireError::WrongWireType {
            tag,
            found,
            expected,
        })
    }
}
