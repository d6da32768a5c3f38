//! Codec tests: byte vectors in, typed values out, and back.
