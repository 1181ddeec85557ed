// key_codec.h: order-preserving encodings of the keys of the `rows` family.
//
// RocksDB compares keys bytewise (memcmp, shorter first on a tie). Every encoding here is
// chosen so that this bytewise order equals the SQL order of what was encoded, and so that
// every encoded part is self-delimiting (no encoding of one value is a proper prefix of the
// encoding of another). Together that gives: primary-key order for free, range scans by key
// prefix, and composite keys by plain concatenation. The byte grammar is at the top of
// key_codec.cc and in docs/storage.md:
//
//   SHARED row   table_id · pk
//   USER row     table_id · owner · pk
//   STREAM row   table_id · owner · seq
//
// Append* functions append to a caller-owned string (reuse it and the steady state allocates
// nothing). On error they leave `out` as it was. Decode* functions consume from the front of a
// string_view and return kCorruption for bytes they cannot decode; they never read past the
// view's end.
//
// Thread-safety: every function is pure; call from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "common/value.h"

namespace kalamdb::storage {

// --- Primitive coding shared by the storage codecs -------------------------------------------

// Appends `v` as an unsigned LEB128 varint (7 bits a byte, low group first, 1..10 bytes).
void AppendVarint64(std::string* out, uint64_t v);
// Decodes a varint from the front of `*in` and advances `*in` past it. Returns false (leaving
// `*in` unspecified) on truncation, on more than 10 bytes, or on a value above 2^64 - 1.
[[nodiscard]] bool GetVarint64(std::string_view* in, uint64_t* v);
// The number of bytes AppendVarint64 writes for `v`.
constexpr size_t VarintLength(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

// --- Key parts --------------------------------------------------------------------------------

// Appends `table_id` as 4 bytes big-endian.
void AppendTableId(std::string* out, uint32_t table_id);

// Appends the owner part of USER and STREAM keys: varint(byte length) · the user id's bytes.
// Length-prefixed, so the encoding of owner "a" is never a prefix of the encoding of owner "ab"
// (owners are compared for equality only; their mutual order is by length, then bytes).
void AppendOwner(std::string* out, std::string_view user_id);

// Appends the order-preserving encoding of a primary-key value:
//   SmallInt, Int, BigInt, Timestamp, Date, DateTime, Time: 8 bytes big-endian, sign bit flipped
//   Boolean: one byte, 0x00 (false) or 0x01 (true)
//   Float, Double: 8 bytes, the IEEE-754 double's bits transformed to sort as numbers;
//     -0.0 is written as +0.0 and every NaN as one canonical NaN that sorts after +inf
//     (SQL: -0 = 0, NaN = NaN, NaN greater than every number), so such keys are equal
//   Decimal: 16 bytes big-endian, the scaled int128 with its sign bit flipped
//   Uuid: its 16 bytes as they are (fixed width, so no terminator is needed)
//   Text, Json, Bytes: the bytes with 0x00 written as 0x00 0xFF, then 0x00 0x01
// Errors: kInvalidArgument for NULL (never a valid primary key), a SmallInt or Int out of
// range, and a Uuid that is not 16 bytes.
[[nodiscard]] Status AppendKeyValue(std::string* out, const Value& value);

// Decodes one value written by AppendKeyValue for a column of type `type` from the front of
// `*in` and advances `*in` past it. Text, Json and Bytes values borrow from `*in`'s bytes when
// they contain no escape; otherwise they are unescaped into `*scratch` (replacing its contents)
// and borrow from it. The Value is therefore valid while both the input bytes and `*scratch`
// are unchanged; a caller decoding several escaped values needs one scratch string each.
// Float and Double NaN and -0.0 come back canonical (see AppendKeyValue). `scratch` may be null
// for other types, or when the caller is sure no escape is present (then kInvalidArgument if
// one is).
// Errors: kCorruption (truncated, bad escape, boolean byte other than 0/1, integer out of range
// for its type); `*in` and `*out` are then unspecified.
[[nodiscard]] Status DecodeKeyValue(std::string_view* in, DataType type, Value* out,
                                    std::string* scratch);

// --- Whole keys -------------------------------------------------------------------------------

// The prefix of every row key of one table: table_id.
std::string TablePrefix(uint32_t table_id);
// The prefix of every row key of one owner in a USER or STREAM table: table_id · owner.
// All rows of one user are exactly the keys that start with it: one contiguous key range.
std::string OwnerPrefix(uint32_t table_id, std::string_view user_id);
// The length of a row key's table_id · [owner] part (TablePrefix, OwnerPrefix), with `owner`
// empty for SHARED tables as in AppendRowKey: the primary key starts there.
constexpr size_t RowKeyPrefixSize(std::string_view owner) {
  return owner.empty() ? 4 : 4 + VarintLength(owner.size()) + owner.size();
}
// The smallest key greater than every key that starts with `prefix` (the exclusive upper bound
// of a prefix range), or "" when there is none (prefix empty or all 0xFF bytes).
std::string PrefixSuccessor(std::string_view prefix);

// Appends a row key: table_id · [owner] · pk. `owner` is the row's user id for USER tables
// (user ids are never empty) and empty for SHARED tables, whose keys have no owner part.
// Errors: as AppendKeyValue; `out` is then unchanged.
[[nodiscard]] Status AppendRowKey(std::string* out, uint32_t table_id, std::string_view owner,
                                  const Value& pk);
// The same, into a new string (cold paths and tests).
Result<std::string> RowKey(uint32_t table_id, std::string_view owner, const Value& pk);

struct RowKeyParts {
  uint32_t table_id = 0;
  std::string_view owner;  // empty for SHARED tables; borrows from the key
  Value pk;                // borrows from the key or from the caller's scratch string
};
// Splits a row key. `has_owner` is true for USER tables. Borrowing as for DecodeKeyValue.
// Errors: kCorruption (truncated, trailing bytes, undecodable pk).
[[nodiscard]] Status DecodeRowKey(std::string_view key, bool has_owner, DataType pk_type,
                                  RowKeyParts* out, std::string* scratch);

// Appends a STREAM row key: table_id · owner · seq (8 bytes big-endian). `seq` is the row's
// `_seq` (a snowflake id, never negative), so keys of one owner sort in insertion order.
void AppendStreamKey(std::string* out, uint32_t table_id, std::string_view owner, uint64_t seq);
std::string StreamKey(uint32_t table_id, std::string_view owner, uint64_t seq);

struct StreamKeyParts {
  uint32_t table_id = 0;
  std::string_view owner;  // borrows from the key
  uint64_t seq = 0;
};
// Splits a STREAM row key. Errors: kCorruption (truncated or trailing bytes).
[[nodiscard]] Status DecodeStreamKey(std::string_view key, StreamKeyParts* out);

}  // namespace kalamdb::storage
