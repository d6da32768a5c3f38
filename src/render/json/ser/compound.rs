//! The serializer's open arrays and objects ([`Compound`]) and object
//! keys ([`MapKey`]): the parts of serde's data model inside brackets.

use serde::ser::{self, Serialize};

use std::fmt::Display;

use super::{Error, JsonSerializer, push_string};

/// An open array or object (in an enum variant's object, with `variant`).
pub struct Compound<'s, 'a, const PRETTY: bool> {
    pub(super) ser: &'s mut JsonSerializer<'a, PRETTY>,
    pub(super) variant: bool,
}

impl<const PRETTY: bool> Compound<'_, '_, PRETTY> {
    #[inline]
    fn end_variant(self, bracket: u8) -> Result<(), Error> {
        self.ser.close(bracket);
        if self.variant {
            self.ser.close(b'}');
        }
        Ok(())
    }

    #[inline]
    fn element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Error> {
        self.ser.separate();
        value.serialize(&mut *self.ser)?;
        self.ser.after_element()
    }
}

impl<const PRETTY: bool> ser::SerializeSeq for Compound<'_, '_, PRETTY> {
    type Ok = ();
    type Error = Error;

    #[inline]
    fn serialize_element<T: ?Sized + Serialize>(
        &mut self,
        value: &T,
    ) -> Result<(), Error> {
        self.element(value)
    }

    fn end(self) -> Result<(), Error> {
        self.end_variant(b']')
    }
}

impl<const PRETTY: bool> ser::SerializeTuple for Compound<'_, '_, PRETTY> {
    type Ok = ();
    type Error = Error;

    fn serialize_element<T: ?Sized + Serialize>(
        &mut self,
        value: &T,
    ) -> Result<(), Error> {
        self.element(value)
    }

    fn end(self) -> Result<(), Error> {
        self.end_variant(b']')
    }
}

impl<const PRETTY: bool> ser::SerializeTupleStruct for Compound<'_, '_, PRETTY> {
    type Ok = ();
    type Error = Error;

    fn serialize_field<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Error> {
        self.element(value)
    }

    fn end(self) -> Result<(), Error> {
        self.end_variant(b']')
    }
}

impl<const PRETTY: bool> ser::SerializeTupleVariant for Compound<'_, '_, PRETTY> {
    type Ok = ();
    type Error = Error;

    fn serialize_field<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Error> {
        self.element(value)
    }

    fn end(self) -> Result<(), Error> {
        self.end_variant(b']')
    }
}

impl<const PRETTY: bool> ser::SerializeMap for Compound<'_, '_, PRETTY> {
    type Ok = ();
    type Error = Error;

    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> Result<(), Error> {
        self.ser.separate();
        key.serialize(MapKey(&mut *self.ser))?;
        self.ser
            .buf
            .extend_from_slice(if PRETTY { b": " } else { b":" });
        Ok(())
    }

    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Error> {
        value.serialize(&mut *self.ser)
    }

    fn end(self) -> Result<(), Error> {
        self.end_variant(b'}')
    }
}

impl<const PRETTY: bool> ser::SerializeStruct for Compound<'_, '_, PRETTY> {
    type Ok = ();
    type Error = Error;

    #[inline(always)]
    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.ser.field_key(key);
        value.serialize(&mut *self.ser)
    }

    #[inline]
    fn end(self) -> Result<(), Error> {
        self.end_variant(b'}')
    }
}

impl<const PRETTY: bool> ser::SerializeStructVariant for Compound<'_, '_, PRETTY> {
    type Ok = ();
    type Error = Error;

    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.ser.field_key(key);
        value.serialize(&mut *self.ser)
    }

    fn end(self) -> Result<(), Error> {
        self.end_variant(b'}')
    }
}

/// A map's key: a string (or a `Display` value), as JSON keys are.
pub(super) struct MapKey<'s, 'a, const PRETTY: bool>(&'s mut JsonSerializer<'a, PRETTY>);

/// What a map key cannot be.
fn not_a_key() -> Error {
    ser::Error::custom("a JSON key must be a string")
}

impl<const PRETTY: bool> ser::Serializer for MapKey<'_, '_, PRETTY> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = ser::Impossible<(), Error>;
    type SerializeTuple = ser::Impossible<(), Error>;
    type SerializeTupleStruct = ser::Impossible<(), Error>;
    type SerializeTupleVariant = ser::Impossible<(), Error>;
    type SerializeMap = ser::Impossible<(), Error>;
    type SerializeStruct = ser::Impossible<(), Error>;
    type SerializeStructVariant = ser::Impossible<(), Error>;

    fn serialize_str(self, v: &str) -> Result<(), Error> {
        push_string(self.0.buf, v);
        Ok(())
    }

    fn collect_str<T: ?Sized + Display>(self, value: &T) -> Result<(), Error> {
        self.0.collect_str(value)
    }

    fn serialize_bool(self, _: bool) -> Result<(), Error> {
        Err(not_a_key())
    }
    fn serialize_i8(self, _: i8) -> Result<(), Error> {
        Err(not_a_key())
    }
    fn serialize_i16(self, _: i16) -> Result<(), Error> {
        Err(not_a_key())
    }
    fn serialize_i32(self, _: i32) -> Result<(), Error> {
        Err(not_a_key())
    }
    fn serialize_i64(self, _: i64) -> Result<(), Error> {
        Err(not_a_key())
    }
    fn serialize_u8(self, _: u8) -> Result<(), Error> {
        Err(not_a_key())
    }
    fn serialize_u16(self, _: u16) -> Result<(), Error> {
        Err(not_a_key())
    }
    fn serialize_u32(self, _: u32) -> Result<(), Error> {
        Err(not_a_key())
    }
    fn serialize_u64(self, _: u64) -> Result<(), Error> {
        Err(not_a_key())
    }
    fn serialize_f32(self, _: f32) -> Result<(), Error> {
        Err(not_a_key())
    }
    fn serialize_f64(self, _: f64) -> Result<(), Error> {
        Err(not_a_key())
    }
    fn serialize_char(self, v: char) -> Result<(), Error> {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<(), Error> {
        Err(not_a_key())
    }
    fn serialize_none(self) -> Result<(), Error> {
        Err(not_a_key())
    }
    fn serialize_some<T: ?Sized + Serialize>(self, _: &T) -> Result<(), Error> {
        Err(not_a_key())
    }
    fn serialize_unit(self) -> Result<(), Error> {
        Err(not_a_key())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Error> {
        Err(not_a_key())
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), Error> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), Error> {
        Err(not_a_key())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        Err(not_a_key())
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Error> {
        Err(not_a_key())
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Error> {
        Err(not_a_key())
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        Err(not_a_key())
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Error> {
        Err(not_a_key())
    }
    fn serialize_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStruct, Error> {
        Err(not_a_key())
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        Err(not_a_key())
    }
}
