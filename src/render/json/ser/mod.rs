//! The serde `Serializer` the documents are written with: JSON as
//! `serde_json` writes it (compact, or `--pretty`'s two-space indentation;
//! strings escaped alike; floats by `serde_json` itself), straight into a
//! byte buffer. A large table's document is five times its text, and
//! `serde_json` writes a struct's key in five writes and an escape scan:
//! here a key is one copy of known size, a number is made in place
//! ([`push_decimal`]), a unit variant (the schema's names, `SchemaName`)
//! is copied without an escape scan, and the buffer goes out in large
//! writes between the members of an array.
//!
//! It knows nothing of the schema: the views in [`super`] are the
//! documents; the tests compare its bytes with `serde_json`'s.

use std::fmt::{self, Display, Write as _};
use std::io;

use serde::ser::{self, Serialize};

use crate::output::common::push_decimal;

/// Why a document was not written whole. Boxed: every serializer call
/// returns a `Result` of it, best kept the size of a pointer.
#[derive(Debug)]
pub struct Error(Box<Failure>);

#[derive(Debug)]
enum Failure {
    /// Writing it out failed.
    Io(io::Error),
    /// A value refused to be serialized (a streamed listing that stopped).
    Value(String),
}

impl Error {
    pub(crate) fn io(e: io::Error) -> Error {
        Error(Box::new(Failure::Io(e)))
    }
}

impl Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match &*self.0 {
            Failure::Io(e) => e.fmt(f),
            Failure::Value(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: Display>(message: T) -> Error {
        Error(Box::new(Failure::Value(message.to_string())))
    }
}

impl From<Error> for io::Error {
    fn from(e: Error) -> io::Error {
        match *e.0 {
            Failure::Io(e) => e,
            Failure::Value(message) => {
                io::Error::new(io::ErrorKind::InvalidData, message)
            }
        }
    }
}

/// A JSON serializer into `buf`, which goes to `out` (if any) whenever it
/// holds a chunk at the end of an array member.
/// `PRETTY` indents it as `--pretty` does; a parameter of the type, so
/// that the compact serializer has no branch for it.
pub struct JsonSerializer<'a, const PRETTY: bool> {
    buf: &'a mut Vec<u8>,
    out: Option<&'a mut dyn io::Write>,
    depth: usize,
    /// Whether the innermost open object or array has no member yet.
    empty: bool,
    /// Whether the string being serialized is a [`PLAIN`] one.
    plain: bool,
}

/// The name of a newtype struct whose string has nothing to escape (an
/// address): any serializer writes the string it holds, this one copies it
/// without looking at each byte.
pub(crate) const PLAIN: &str = "$plain";

impl<'a, const PRETTY: bool> JsonSerializer<'a, PRETTY> {
    pub fn new(
        buf: &'a mut Vec<u8>,
        out: Option<&'a mut dyn io::Write>,
    ) -> JsonSerializer<'a, PRETTY> {
        JsonSerializer {
            buf,
            out,
            depth: 0,
            empty: true,
            plain: false,
        }
    }

    #[inline(always)]
    fn newline(&mut self) {
        self.buf.push(b'\n');
        self.buf.resize(self.buf.len() + 2 * self.depth, b' ');
    }

    /// Before a member of the open object or array.
    #[inline(always)]
    fn separate(&mut self) {
        if !self.empty {
            self.buf.push(b',');
        }
        self.empty = false;
        if PRETTY {
            self.newline();
        }
    }

    #[inline(always)]
    fn open(&mut self, bracket: u8) {
        self.buf.push(bracket);
        self.depth += 1;
        self.empty = true;
    }

    #[inline(always)]
    fn close(&mut self, bracket: u8) {
        self.depth = self.depth.saturating_sub(1);
        if PRETTY && !self.empty {
            self.newline();
        }
        self.buf.push(bracket);
        // The closed container is a member of its parent.
        self.empty = false;
    }

    /// `"key":` of a struct's field, after its separator: the schema's
    /// own snake_case names, nothing to escape. Inlined where the key is a
    /// constant, so that every copy is of a known size: compact, as few
    /// as the hand-written fragment `,"key":` would take.
    #[inline(always)]
    fn field_key(&mut self, key: &'static str) {
        const MAX: usize = 32;
        let key = key.as_bytes();
        if key.len() > MAX {
            self.separate();
            self.buf.push(b'"');
            self.buf.extend_from_slice(key);
            self.buf
                .extend_from_slice(if PRETTY { b"\": " } else { b"\":" });
            return;
        }
        // `,"key":` (pretty: `"key": ` after the line break) made on the
        // stack, then one copy of known size into the buffer: one
        // capacity check, as for a hand-written constant fragment.
        let mut fragment = [0u8; MAX + 5];
        fragment[0] = b',';
        fragment[1] = b'"';
        fragment[2..2 + key.len()].copy_from_slice(key);
        fragment[2 + key.len()] = b'"';
        fragment[3 + key.len()] = b':';
        if PRETTY {
            fragment[4 + key.len()] = b' ';
            self.separate();
            self.buf.extend_from_slice(&fragment[1..key.len() + 5]);
        } else if self.empty {
            self.empty = false;
            self.buf.extend_from_slice(&fragment[1..key.len() + 4]);
        } else {
            self.buf.extend_from_slice(&fragment[..key.len() + 4]);
        }
    }

    /// After a member of an array: a chunk goes out.
    #[inline(always)]
    fn after_element(&mut self) -> Result<(), Error> {
        if self.buf.len() >= super::JSON_CHUNK {
            if let Some(out) = self.out.as_deref_mut() {
                out.write_all(self.buf).map_err(Error::io)?;
                self.buf.clear();
            }
        }
        Ok(())
    }
}

/// `value` as a JSON string, escaped as `serde_json` escapes: `"` and `\`,
/// the short forms `\b \f \n \r \t`, other control characters as
/// `\u00XX` (lowercase hex); everything else, UTF-8 included, as is.
#[inline]
pub(crate) fn push_string(buf: &mut Vec<u8>, value: &str) {
    let bytes = value.as_bytes();
    // Most are names and addresses: short, with nothing to escape.
    if bytes.len() <= 48 && !bytes.iter().any(|&b| needs_escape(b)) {
        buf.reserve(bytes.len() + 2);
        buf.push(b'"');
        buf.extend_from_slice(bytes);
        buf.push(b'"');
        return;
    }
    buf.push(b'"');
    push_string_contents(buf, value);
    buf.push(b'"');
}

/// `value`, which has nothing to escape, as a JSON string. Most are the
/// schema's names and IPv4 addresses, 3 to 15 bytes: put together with
/// its quotes in a fixed-size block on the stack (from two fixed-size
/// pieces that overlap in the middle), copied whole, and the buffer cut
/// back to its end: inline, where a copy of unknown length calls `memcpy`
/// (a byte loop in musl's, for so few).
#[inline(always)]
pub(crate) fn push_plain_string(buf: &mut Vec<u8>, value: &str) {
    let bytes = value.as_bytes();
    let n = bytes.len();
    let end = buf.len() + n + 2;
    if (4..=8).contains(&n) {
        push_quoted_in_block::<4, 10>(buf, bytes);
    } else if (9..=16).contains(&n) {
        push_quoted_in_block::<8, 18>(buf, bytes);
    } else {
        buf.push(b'"');
        buf.extend_from_slice(bytes);
        buf.push(b'"');
        return;
    }
    buf.truncate(end);
}

/// `"bytes"` (`PIECE` to `2 * PIECE` of them) at the start of a block of
/// `BLOCK` (`2 * PIECE + 2`) bytes, all of it appended to `buf`.
#[inline(always)]
fn push_quoted_in_block<const PIECE: usize, const BLOCK: usize>(
    buf: &mut Vec<u8>,
    bytes: &[u8],
) {
    let n = bytes.len();
    let mut block = [b'"'; BLOCK];
    let mut piece = [0u8; PIECE];
    piece.copy_from_slice(&bytes[..PIECE]);
    block[1..1 + PIECE].copy_from_slice(&piece);
    piece.copy_from_slice(&bytes[n - PIECE..]);
    block[1 + n - PIECE..1 + n].copy_from_slice(&piece);
    block[1 + n] = b'"';
    buf.extend_from_slice(&block);
}

/// Whether a byte is one JSON strings escape: a table, one load a byte.
#[inline(always)]
fn needs_escape(byte: u8) -> bool {
    const ESCAPED: [bool; 256] = {
        let mut table = [false; 256];
        let mut b = 0;
        while b < 0x20 {
            table[b] = true;
            b += 1;
        }
        table[b'"' as usize] = true;
        table[b'\\' as usize] = true;
        table
    };
    ESCAPED[usize::from(byte)]
}

fn push_string_contents(buf: &mut Vec<u8>, value: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = value.as_bytes();
    let mut plain_from = 0;
    for (i, &byte) in bytes.iter().enumerate() {
        let short = match byte {
            b'"' => b'"',
            b'\\' => b'\\',
            0x08 => b'b',
            0x0c => b'f',
            b'\n' => b'n',
            b'\r' => b'r',
            b'\t' => b't',
            0..=0x1f => b'u',
            _ => continue,
        };
        buf.extend_from_slice(&bytes[plain_from..i]);
        buf.push(b'\\');
        buf.push(short);
        if short == b'u' {
            buf.extend_from_slice(b"00");
            buf.push(HEX[usize::from(byte >> 4)]);
            buf.push(HEX[usize::from(byte & 0xf)]);
        }
        plain_from = i + 1;
    }
    buf.extend_from_slice(&bytes[plain_from..]);
}

/// `Display` output escaped into a JSON string's contents.
struct Escaping<'b>(&'b mut Vec<u8>);

impl fmt::Write for Escaping<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        push_string_contents(self.0, s);
        Ok(())
    }
}

impl<'s, 'a, const PRETTY: bool> ser::Serializer for &'s mut JsonSerializer<'a, PRETTY> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Compound<'s, 'a, PRETTY>;
    type SerializeTuple = Compound<'s, 'a, PRETTY>;
    type SerializeTupleStruct = Compound<'s, 'a, PRETTY>;
    type SerializeTupleVariant = Compound<'s, 'a, PRETTY>;
    type SerializeMap = Compound<'s, 'a, PRETTY>;
    type SerializeStruct = Compound<'s, 'a, PRETTY>;
    type SerializeStructVariant = Compound<'s, 'a, PRETTY>;

    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.buf
            .extend_from_slice(if v { b"true" } else { b"false" });
        Ok(())
    }

    #[inline]
    fn serialize_i8(self, v: i8) -> Result<(), Error> {
        self.serialize_i64(i64::from(v))
    }

    #[inline]
    fn serialize_i16(self, v: i16) -> Result<(), Error> {
        self.serialize_i64(i64::from(v))
    }

    #[inline]
    fn serialize_i32(self, v: i32) -> Result<(), Error> {
        self.serialize_i64(i64::from(v))
    }

    #[inline]
    fn serialize_i64(self, v: i64) -> Result<(), Error> {
        if v < 0 {
            self.buf.push(b'-');
        }
        push_decimal(self.buf, v.unsigned_abs());
        Ok(())
    }

    fn serialize_i128(self, v: i128) -> Result<(), Error> {
        write!(Escaping(self.buf), "{v}").map_err(ser::Error::custom)
    }

    #[inline]
    fn serialize_u8(self, v: u8) -> Result<(), Error> {
        self.serialize_u64(u64::from(v))
    }

    #[inline]
    fn serialize_u16(self, v: u16) -> Result<(), Error> {
        self.serialize_u64(u64::from(v))
    }

    #[inline]
    fn serialize_u32(self, v: u32) -> Result<(), Error> {
        self.serialize_u64(u64::from(v))
    }

    #[inline]
    fn serialize_u64(self, v: u64) -> Result<(), Error> {
        push_decimal(self.buf, v);
        Ok(())
    }

    fn serialize_u128(self, v: u128) -> Result<(), Error> {
        write!(Escaping(self.buf), "{v}").map_err(ser::Error::custom)
    }

    fn serialize_f32(self, v: f32) -> Result<(), Error> {
        // serde_json's own text of a float (`null` when not finite).
        serde_json::to_writer(&mut *self.buf, &v).map_err(ser::Error::custom)
    }

    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        serde_json::to_writer(&mut *self.buf, &v).map_err(ser::Error::custom)
    }

    fn serialize_char(self, v: char) -> Result<(), Error> {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }

    #[inline]
    fn serialize_str(self, v: &str) -> Result<(), Error> {
        if self.plain {
            debug_assert!(!v.bytes().any(needs_escape), "{v:?}");
            push_plain_string(self.buf, v);
        } else {
            push_string(self.buf, v);
        }
        Ok(())
    }

    fn serialize_bytes(self, v: &[u8]) -> Result<(), Error> {
        ser::Serializer::collect_seq(self, v)
    }

    #[inline]
    fn serialize_none(self) -> Result<(), Error> {
        self.serialize_unit()
    }

    #[inline]
    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }

    #[inline]
    fn serialize_unit(self) -> Result<(), Error> {
        self.buf.extend_from_slice(b"null");
        Ok(())
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Error> {
        self.serialize_unit()
    }

    #[inline(always)]
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), Error> {
        // A variant's name is an identifier of the program (a Rust one, or
        // one of the schema's names): nothing to escape, so a plain copy.
        debug_assert!(!variant.bytes().any(needs_escape), "{variant:?}");
        push_plain_string(self.buf, variant);
        Ok(())
    }

    #[inline]
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        if name == PLAIN {
            self.plain = true;
            let written = value.serialize(&mut *self);
            self.plain = false;
            return written;
        }
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.open(b'{');
        self.field_key(variant);
        value.serialize(&mut *self)?;
        self.close(b'}');
        Ok(())
    }

    fn serialize_seq(
        self,
        _len: Option<usize>,
    ) -> Result<Compound<'s, 'a, PRETTY>, Error> {
        self.open(b'[');
        Ok(Compound {
            ser: self,
            variant: false,
        })
    }

    fn serialize_tuple(self, len: usize) -> Result<Compound<'s, 'a, PRETTY>, Error> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<Compound<'s, 'a, PRETTY>, Error> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'s, 'a, PRETTY>, Error> {
        self.open(b'{');
        self.field_key(variant);
        self.open(b'[');
        Ok(Compound {
            ser: self,
            variant: true,
        })
    }

    fn serialize_map(
        self,
        _len: Option<usize>,
    ) -> Result<Compound<'s, 'a, PRETTY>, Error> {
        self.open(b'{');
        Ok(Compound {
            ser: self,
            variant: false,
        })
    }

    #[inline]
    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Compound<'s, 'a, PRETTY>, Error> {
        self.open(b'{');
        Ok(Compound {
            ser: self,
            variant: false,
        })
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'s, 'a, PRETTY>, Error> {
        self.open(b'{');
        self.field_key(variant);
        self.open(b'{');
        Ok(Compound {
            ser: self,
            variant: true,
        })
    }

    /// `value`'s `Display` as a string, without a `String` of its own.
    fn collect_str<T: ?Sized + Display>(self, value: &T) -> Result<(), Error> {
        self.buf.push(b'"');
        write!(Escaping(self.buf), "{value}").map_err(ser::Error::custom)?;
        self.buf.push(b'"');
        Ok(())
    }
}

mod compound;

pub use compound::Compound;
