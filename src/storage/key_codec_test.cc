#include "storage/key_codec.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace kalamdb::storage {
namespace {

__extension__ typedef unsigned __int128 uint128_t;

constexpr DataType kIntTypes[] = {DataType::kSmallInt,  DataType::kInt,  DataType::kBigInt,
                                  DataType::kTimestamp, DataType::kDate, DataType::kDateTime,
                                  DataType::kTime};
constexpr DataType kStringTypes[] = {DataType::kText, DataType::kJson, DataType::kBytes};

int Sign(int c) { return (c > 0) - (c < 0); }

// memcmp order of two byte strings, as RocksDB's bytewise comparator sees it.
int KeyCompare(std::string_view a, std::string_view b) { return Sign(a.compare(b)); }

// The SQL order of two non-NULL values of the same type: numbers numerically (-0 = 0, NaN equal
// to NaN and greater than every number), strings and bytes bytewise (C collation).
int SqlCompare(const Value& a, const Value& b) {
  switch (PhysicalOf(a.type())) {
    case Physical::kBool:
      return static_cast<int>(a.as_bool()) - static_cast<int>(b.as_bool());
    case Physical::kInt64:
      return (a.as_int() > b.as_int()) - (a.as_int() < b.as_int());
    case Physical::kInt128:
      return (a.as_decimal() > b.as_decimal()) - (a.as_decimal() < b.as_decimal());
    case Physical::kDouble: {
      const double x = a.as_double(), y = b.as_double();
      if (std::isnan(x) || std::isnan(y)) return std::isnan(x) - std::isnan(y);
      return (x > y) - (x < y);
    }
    case Physical::kBytes:
      return Sign(a.as_bytes().compare(b.as_bytes()));
  }
  return 0;
}

std::string Encode(const Value& v) {
  std::string out;
  EXPECT_TRUE(AppendKeyValue(&out, v).ok());
  return out;
}

// Decodes `key` completely as one value of `type`.
Value DecodeAll(std::string_view key, DataType type, std::string* scratch) {
  Value v;
  Status st = DecodeKeyValue(&key, type, &v, scratch);
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_TRUE(key.empty());
  return v;
}

class ValueGen {
 public:
  explicit ValueGen(uint64_t seed) : rng_(seed) {}

  int64_t Int(DataType type) {
    int64_t lo = std::numeric_limits<int64_t>::min(), hi = std::numeric_limits<int64_t>::max();
    if (type == DataType::kSmallInt) lo = INT16_MIN, hi = INT16_MAX;
    if (type == DataType::kInt) lo = INT32_MIN, hi = INT32_MAX;
    switch (rng_() % 4) {
      case 0:
        return std::uniform_int_distribution<int64_t>(-3, 3)(rng_);
      case 1:
        return rng_() % 2 ? lo : hi;
      default:
        return std::uniform_int_distribution<int64_t>(lo, hi)(rng_);
    }
  }
  double Double() {
    static constexpr double kSpecial[] = {0.0,
                                          -0.0,
                                          1.0,
                                          -1.0,
                                          std::numeric_limits<double>::infinity(),
                                          -std::numeric_limits<double>::infinity(),
                                          std::numeric_limits<double>::quiet_NaN(),
                                          -std::numeric_limits<double>::quiet_NaN(),
                                          std::numeric_limits<double>::denorm_min(),
                                          -std::numeric_limits<double>::denorm_min(),
                                          std::numeric_limits<double>::max(),
                                          std::numeric_limits<double>::lowest()};
    if (rng_() % 3 == 0) return kSpecial[rng_() % std::size(kSpecial)];
    if (rng_() % 2 == 0) return std::uniform_real_distribution<double>(-100, 100)(rng_);
    return std::bit_cast<double>(static_cast<uint64_t>(rng_()));  // any bits, NaNs included
  }
  int128_t Decimal() {
    const int128_t min = static_cast<int128_t>(static_cast<uint128_t>(1) << 127);
    const int128_t max = ~min;
    switch (rng_() % 4) {
      case 0:
        return std::uniform_int_distribution<int64_t>(-3, 3)(rng_);
      case 1:
        return rng_() % 2 ? min : max;
      default:
        return static_cast<int128_t>((static_cast<uint128_t>(rng_()) << 64) | rng_());
    }
  }
  // Short strings over a small alphabet that stresses the escape: pairs often share prefixes.
  std::string Bytes() {
    static constexpr char kAlphabet[] = {'\x00', '\x01', '\xFF', 'a', 'b'};
    std::string s(rng_() % 7, '\0');
    for (char& c : s) c = kAlphabet[rng_() % sizeof(kAlphabet)];
    return s;
  }
  std::string Uuid() {
    std::string s(16, '\0');
    for (char& c : s) c = static_cast<char>(rng_() % 4 == 0 ? 0 : rng_());
    return s;
  }
  std::string Owner() {
    std::string s(rng_() % 4, 'a');
    for (char& c : s) c = static_cast<char>("ab\x00\xFF"[rng_() % 4]);
    return s;
  }

  std::mt19937_64& rng() { return rng_; }

 private:
  std::mt19937_64 rng_;
};

// Makes a value of `type` whose string bytes (if any) live in `storage`.
Value MakeValue(ValueGen& gen, DataType type, std::string* storage) {
  switch (PhysicalOf(type)) {
    case Physical::kBool:
      return Value::Bool(gen.rng()() % 2);
    case Physical::kInt64:
      return Value::Int(type, gen.Int(type));
    case Physical::kDouble:
      return Value::Double(type, gen.Double());
    case Physical::kInt128:
      return Value::Decimal(gen.Decimal());
    case Physical::kBytes:
      *storage = type == DataType::kUuid ? gen.Uuid() : gen.Bytes();
      return Value::Bytes(type, *storage);
  }
  return Value();
}

TEST(VarintTest, RoundTripsAndRejectsBadInput) {
  for (uint64_t v : {uint64_t{0}, uint64_t{1}, uint64_t{127}, uint64_t{128}, uint64_t{16383},
                     uint64_t{16384}, uint64_t{1} << 35, std::numeric_limits<uint64_t>::max()}) {
    std::string s;
    AppendVarint64(&s, v);
    EXPECT_EQ(s.size(), VarintLength(v));
    std::string_view in = s;
    uint64_t got = 0;
    ASSERT_TRUE(GetVarint64(&in, &got));
    EXPECT_EQ(got, v);
    EXPECT_TRUE(in.empty());
    std::string_view truncated(s.data(), s.size() - 1);
    EXPECT_FALSE(GetVarint64(&truncated, &got));
  }
  std::string too_long(10, '\x80');
  too_long.push_back('\x01');
  std::string_view in = too_long;
  uint64_t got = 0;
  EXPECT_FALSE(GetVarint64(&in, &got));
  std::string overflow(9, '\xFF');
  overflow.push_back('\x02');  // bit 64
  in = overflow;
  EXPECT_FALSE(GetVarint64(&in, &got));
}

TEST(KeyCodecTest, TableIdIsBigEndian) {
  EXPECT_EQ(TablePrefix(0x01020304), std::string("\x01\x02\x03\x04", 4));
  EXPECT_LT(TablePrefix(255), TablePrefix(256));
}

TEST(KeyCodecTest, IntegersAreBigEndianWithTheSignBitFlipped) {
  EXPECT_EQ(Encode(Value::Int(DataType::kBigInt, 0)), std::string("\x80\0\0\0\0\0\0\0", 8));
  EXPECT_EQ(Encode(Value::Int(DataType::kBigInt, -1)),
            std::string("\x7F\xFF\xFF\xFF\xFF\xFF\xFF\xFF", 8));
  EXPECT_EQ(Encode(Value::Int(DataType::kBigInt, std::numeric_limits<int64_t>::min())),
            std::string(8, '\0'));
  EXPECT_EQ(Encode(Value::Int(DataType::kSmallInt, 1)), std::string("\x80\0\0\0\0\0\0\x01", 8));
}

TEST(KeyCodecTest, StringsAreEscapedAndTerminated) {
  EXPECT_EQ(Encode(Value::Bytes(DataType::kText, "")), std::string("\x00\x01", 2));
  EXPECT_EQ(Encode(Value::Bytes(DataType::kText, "a")), std::string("a\x00\x01", 3));
  EXPECT_EQ(Encode(Value::Bytes(DataType::kBytes, std::string_view("a\0b", 3))),
            std::string("a\x00\xFF"
                        "b\x00\x01",
                        6));
  // "a" < "a\0" < "ab" in SQL order, and bytewise once encoded.
  const std::string a = Encode(Value::Bytes(DataType::kText, "a"));
  const std::string a0 = Encode(Value::Bytes(DataType::kText, std::string_view("a\0", 2)));
  const std::string ab = Encode(Value::Bytes(DataType::kText, "ab"));
  EXPECT_LT(a, a0);
  EXPECT_LT(a0, ab);
}

TEST(KeyCodecTest, RoundTripsEveryType) {
  std::string scratch;
  for (DataType type : kIntTypes) {
    int64_t lo = std::numeric_limits<int64_t>::min(), hi = std::numeric_limits<int64_t>::max();
    if (type == DataType::kSmallInt) lo = INT16_MIN, hi = INT16_MAX;
    if (type == DataType::kInt) lo = INT32_MIN, hi = INT32_MAX;
    for (int64_t i : {lo, lo + 1, int64_t{-1}, int64_t{0}, int64_t{1}, hi - 1, hi}) {
      Value v = DecodeAll(Encode(Value::Int(type, i)), type, &scratch);
      EXPECT_EQ(v.type(), type);
      EXPECT_FALSE(v.is_null());
      EXPECT_EQ(v.as_int(), i);
    }
  }
  for (bool b : {false, true}) {
    EXPECT_EQ(DecodeAll(Encode(Value::Bool(b)), DataType::kBoolean, &scratch).as_bool(), b);
  }
  for (DataType type : {DataType::kFloat, DataType::kDouble}) {
    for (double d :
         {0.0, 1.5, -1.5, std::numeric_limits<double>::infinity(),
          -std::numeric_limits<double>::infinity(), std::numeric_limits<double>::denorm_min(),
          std::numeric_limits<double>::max(), std::numeric_limits<double>::lowest()}) {
      Value v = DecodeAll(Encode(Value::Double(type, d)), type, &scratch);
      EXPECT_EQ(v.type(), type);
      EXPECT_EQ(std::bit_cast<uint64_t>(v.as_double()), std::bit_cast<uint64_t>(d));
    }
    // -0.0 is the same key as +0.0; every NaN is one canonical NaN.
    Value neg_zero = DecodeAll(Encode(Value::Double(type, -0.0)), type, &scratch);
    EXPECT_EQ(neg_zero.as_double(), 0.0);
    EXPECT_FALSE(std::signbit(neg_zero.as_double()));
    EXPECT_EQ(Encode(Value::Double(type, -0.0)), Encode(Value::Double(type, 0.0)));
    const double nan = std::numeric_limits<double>::quiet_NaN();
    EXPECT_TRUE(
        std::isnan(DecodeAll(Encode(Value::Double(type, nan)), type, &scratch).as_double()));
    EXPECT_EQ(Encode(Value::Double(type, -nan)), Encode(Value::Double(type, nan)));
    EXPECT_EQ(Encode(Value::Double(type, std::bit_cast<double>(uint64_t{0x7FF0000000000001}))),
              Encode(Value::Double(type, nan)));
  }
  const int128_t dec_min = static_cast<int128_t>(static_cast<uint128_t>(1) << 127);
  for (int128_t d : {dec_min, dec_min + 1, int128_t{-1}, int128_t{0}, int128_t{12345}, ~dec_min}) {
    EXPECT_TRUE(DecodeAll(Encode(Value::Decimal(d)), DataType::kDecimal, &scratch).as_decimal() ==
                d);
  }
  const std::string uuid("\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xAA\xBB\xCC\xDD\xEE\xFF", 16);
  EXPECT_EQ(Encode(Value::Bytes(DataType::kUuid, uuid)), uuid);
  EXPECT_EQ(DecodeAll(uuid, DataType::kUuid, &scratch).as_bytes(), uuid);
  for (DataType type : kStringTypes) {
    for (std::string_view s :
         {std::string_view(""), std::string_view("hello"), std::string_view("\0", 1),
          std::string_view("\0\0", 2), std::string_view("a\0\x01\xFF", 4),
          std::string_view("\x01\xFF", 2), std::string_view("trailing\0", 9)}) {
      const std::string key = Encode(Value::Bytes(type, s));  // v may borrow from it
      Value v = DecodeAll(key, type, &scratch);
      EXPECT_EQ(v.type(), type);
      EXPECT_EQ(v.as_bytes(), s);
    }
  }
}

TEST(KeyCodecTest, TextBorrowsUnlessEscaped) {
  std::string scratch = "untouched";
  const std::string plain = Encode(Value::Bytes(DataType::kText, "plain"));
  Value v = DecodeAll(plain, DataType::kText, &scratch);
  EXPECT_EQ(v.as_bytes().data(), plain.data());
  EXPECT_EQ(scratch, "untouched");

  const std::string escaped = Encode(Value::Bytes(DataType::kText, std::string_view("x\0y", 3)));
  v = DecodeAll(escaped, DataType::kText, &scratch);
  EXPECT_EQ(v.as_bytes().data(), scratch.data());
  EXPECT_EQ(v.as_bytes(), std::string_view("x\0y", 3));

  // Without a scratch buffer an escaped string is refused, an unescaped one still borrows.
  std::string_view in = escaped;
  EXPECT_EQ(DecodeKeyValue(&in, DataType::kText, &v, nullptr).code(), ErrorCode::kInvalidArgument);
  in = plain;
  EXPECT_TRUE(DecodeKeyValue(&in, DataType::kText, &v, nullptr).ok());
}

TEST(KeyCodecTest, RejectsNullOutOfRangeAndBadUuid) {
  std::string out = "keep";
  EXPECT_EQ(AppendKeyValue(&out, Value::Null(DataType::kBigInt)).code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(AppendKeyValue(&out, Value()).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(AppendKeyValue(&out, Value::Bytes(DataType::kUuid, "short")).code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(AppendKeyValue(&out, Value::Int(DataType::kSmallInt, 40000)).code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(AppendKeyValue(&out, Value::Int(DataType::kInt, int64_t{1} << 31)).code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(out, "keep");
  EXPECT_EQ(AppendRowKey(&out, 7, "alice", Value::Null(DataType::kText)).code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(out, "keep");  // unchanged on error, even after the table id and owner
  EXPECT_FALSE(RowKey(7, "", Value()).ok());
}

// For random pairs of each type, memcmp order of the encodings equals SQL order of the values.
TEST(KeyCodecTest, BytewiseOrderEqualsSqlOrder) {
  ValueGen gen(20240501);
  const DataType all[] = {DataType::kBoolean,  DataType::kSmallInt,  DataType::kInt,
                          DataType::kBigInt,   DataType::kFloat,     DataType::kDouble,
                          DataType::kDecimal,  DataType::kText,      DataType::kBytes,
                          DataType::kJson,     DataType::kTimestamp, DataType::kDate,
                          DataType::kDateTime, DataType::kTime,      DataType::kUuid};
  for (DataType type : all) {
    for (int iter = 0; iter < 2000; ++iter) {
      std::string sa, sb;
      const Value a = MakeValue(gen, type, &sa);
      const Value b = iter % 10 == 0 ? a : MakeValue(gen, type, &sb);
      const std::string ka = Encode(a), kb = Encode(b);
      ASSERT_EQ(KeyCompare(ka, kb), SqlCompare(a, b))
          << DataTypeName(type) << " iteration " << iter;
      // The same holds for whole row keys of one table and owner (composite = concatenation).
      const std::string ra = *RowKey(9, "owner", a), rb = *RowKey(9, "owner", b);
      ASSERT_EQ(KeyCompare(ra, rb), SqlCompare(a, b)) << DataTypeName(type);
    }
  }
}

// Sorting keys bytewise sorts the values in SQL order: the property range scans rely on.
TEST(KeyCodecTest, SortedKeysAreSortedValues) {
  ValueGen gen(7);
  for (DataType type : {DataType::kBigInt, DataType::kDouble, DataType::kText}) {
    std::vector<std::string> storage(500);
    std::vector<std::pair<std::string, Value>> rows;
    for (std::string& s : storage) {
      Value v = MakeValue(gen, type, &s);
      rows.emplace_back(Encode(v), v);
    }
    std::sort(rows.begin(), rows.end(),
              [](const auto& x, const auto& y) { return x.first < y.first; });
    for (size_t i = 1; i < rows.size(); ++i) {
      ASSERT_LE(SqlCompare(rows[i - 1].second, rows[i].second), 0) << DataTypeName(type);
    }
  }
}

TEST(KeyCodecTest, OwnersNeverShareAPrefixRange) {
  const Value pk = Value::Int(DataType::kBigInt, 1);
  const std::string prefix_a = OwnerPrefix(3, "a"), prefix_ab = OwnerPrefix(3, "ab");
  for (std::string_view pk_text :
       {std::string_view(""), std::string_view("b"), std::string_view("\x01"),
        std::string_view("\x02"
                         "b")}) {
    const Value text_pk = Value::Bytes(DataType::kText, pk_text);
    for (const Value& v : {pk, text_pk}) {
      const std::string key_a = *RowKey(3, "a", v), key_ab = *RowKey(3, "ab", v);
      EXPECT_TRUE(key_a.starts_with(prefix_a));
      EXPECT_FALSE(key_a.starts_with(prefix_ab));
      EXPECT_TRUE(key_ab.starts_with(prefix_ab));
      EXPECT_FALSE(key_ab.starts_with(prefix_a));
      // Range form: [prefix, PrefixSuccessor(prefix)).
      EXPECT_FALSE(key_a >= prefix_ab && key_a < PrefixSuccessor(prefix_ab));
      EXPECT_FALSE(key_ab >= prefix_a && key_ab < PrefixSuccessor(prefix_a));
    }
  }
  // Random owners (including empty-ish, 0x00 and 0xFF bytes, and a long one with a 2-byte
  // length) and random keys: a key is in an owner's range exactly when it is that owner's.
  ValueGen gen(99);
  const std::string long_owner(300, 'a');
  for (int iter = 0; iter < 5000; ++iter) {
    std::string x = gen.Owner(), y = gen.Owner(), storage;
    if (iter % 50 == 0) x = long_owner;
    if (x.empty()) x = "u";
    if (y.empty()) y = "u";
    const Value v = MakeValue(gen, iter % 2 ? DataType::kText : DataType::kBigInt, &storage);
    const std::string key = *RowKey(5, y, v);
    const std::string prefix = OwnerPrefix(5, x);
    const bool in_range = key >= prefix && key < PrefixSuccessor(prefix);
    ASSERT_EQ(key.starts_with(prefix), x == y);
    ASSERT_EQ(in_range, x == y);
    const std::string stream = StreamKey(5, y, gen.rng()());
    ASSERT_EQ(stream.starts_with(prefix), x == y);
  }
}

TEST(KeyCodecTest, TablesAreContiguousRanges) {
  const std::string key = *RowKey(0x000000FF, "", Value::Int(DataType::kBigInt, -1));
  EXPECT_TRUE(key.starts_with(TablePrefix(0xFF)));
  EXPECT_LT(key, TablePrefix(0x100));
  EXPECT_EQ(PrefixSuccessor(TablePrefix(0xFF)), std::string("\0\0\x01", 3));
  EXPECT_LE(PrefixSuccessor(TablePrefix(0xFF)), TablePrefix(0x100));
  EXPECT_EQ(PrefixSuccessor(std::string("\xFF\xFF", 2)), "");
  EXPECT_EQ(PrefixSuccessor(std::string("a\xFF", 2)), "b");
}

TEST(KeyCodecTest, RowKeysRoundTrip) {
  std::string scratch;
  RowKeyParts parts;
  const std::string shared = *RowKey(42, "", Value::Bytes(DataType::kText, "k"));
  ASSERT_TRUE(DecodeRowKey(shared, /*has_owner=*/false, DataType::kText, &parts, &scratch).ok());
  EXPECT_EQ(parts.table_id, 42u);
  EXPECT_EQ(parts.owner, "");
  EXPECT_EQ(parts.pk.as_bytes(), "k");
  EXPECT_EQ(shared, std::string("\0\0\0\x2Ak\0\x01", 7));

  const std::string user = *RowKey(7, "alice", Value::Int(DataType::kBigInt, -5));
  ASSERT_TRUE(DecodeRowKey(user, /*has_owner=*/true, DataType::kBigInt, &parts, &scratch).ok());
  EXPECT_EQ(parts.table_id, 7u);
  EXPECT_EQ(parts.owner, "alice");
  EXPECT_EQ(parts.pk.as_int(), -5);
  EXPECT_EQ(user.substr(4, 6), std::string("\x05"
                                           "alice"));

  // Appending reuses the caller's buffer.
  std::string out = "x";
  ASSERT_TRUE(AppendRowKey(&out, 7, "alice", Value::Int(DataType::kBigInt, -5)).ok());
  EXPECT_EQ(out, "x" + user);
}

TEST(KeyCodecTest, StreamKeysRoundTripAndSortBySeq) {
  StreamKeyParts parts;
  const std::string key = StreamKey(11, "bob", 0x0102030405060708);
  ASSERT_TRUE(DecodeStreamKey(key, &parts).ok());
  EXPECT_EQ(parts.table_id, 11u);
  EXPECT_EQ(parts.owner, "bob");
  EXPECT_EQ(parts.seq, 0x0102030405060708u);
  EXPECT_EQ(key.substr(8), std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
  EXPECT_LT(StreamKey(11, "bob", 255), StreamKey(11, "bob", 256));
  EXPECT_TRUE(StreamKey(11, "bob", 1).starts_with(OwnerPrefix(11, "bob")));
  EXPECT_EQ(DecodeStreamKey(key.substr(0, key.size() - 1), &parts).code(), ErrorCode::kCorruption);
  EXPECT_EQ(DecodeStreamKey(key + "x", &parts).code(), ErrorCode::kCorruption);
}

// Every proper prefix and every one-byte extension of a valid row key is refused.
TEST(KeyCodecTest, TruncatedKeysAreCorrupt) {
  std::string scratch;
  RowKeyParts parts;
  const std::string uuid(16, '\x05');
  const Value pks[] = {Value::Int(DataType::kInt, 3),
                       Value::Bool(true),
                       Value::Double(DataType::kDouble, 2.5),
                       Value::Decimal(77),
                       Value::Bytes(DataType::kUuid, uuid),
                       Value::Bytes(DataType::kText, std::string_view("a\0b\0", 4)),
                       Value::Bytes(DataType::kBytes, "")};
  for (const Value& pk : pks) {
    const std::string key = *RowKey(1, "owner", pk);
    ASSERT_TRUE(DecodeRowKey(key, true, pk.type(), &parts, &scratch).ok());
    for (size_t len = 0; len < key.size(); ++len) {
      EXPECT_EQ(DecodeRowKey(key.substr(0, len), true, pk.type(), &parts, &scratch).code(),
                ErrorCode::kCorruption)
          << DataTypeName(pk.type()) << " length " << len;
    }
    EXPECT_EQ(DecodeRowKey(key + '\x01', true, pk.type(), &parts, &scratch).code(),
              ErrorCode::kCorruption);
  }
  // Bad escape, bad boolean, SmallInt out of range.
  std::string_view in("a\x00\x02", 3);
  Value v;
  EXPECT_EQ(DecodeKeyValue(&in, DataType::kText, &v, &scratch).code(), ErrorCode::kCorruption);
  in = std::string_view("\x02", 1);
  EXPECT_EQ(DecodeKeyValue(&in, DataType::kBoolean, &v, &scratch).code(), ErrorCode::kCorruption);
  const std::string wide = Encode(Value::Int(DataType::kBigInt, 70000));
  in = wide;
  EXPECT_EQ(DecodeKeyValue(&in, DataType::kSmallInt, &v, &scratch).code(), ErrorCode::kCorruption);
}

// Garbage never crashes a decoder: each call returns OK or kCorruption.
TEST(KeyCodecTest, FuzzDecodersWithGarbage) {
  std::mt19937_64 rng(12345);
  const DataType all[] = {DataType::kBoolean, DataType::kSmallInt, DataType::kInt,
                          DataType::kBigInt,  DataType::kDouble,   DataType::kDecimal,
                          DataType::kText,    DataType::kUuid,     DataType::kTime};
  std::string scratch, bytes;
  for (int iter = 0; iter < 10000; ++iter) {
    bytes.resize(rng() % 40);
    for (char& c : bytes) {  // biased towards the bytes the codecs treat specially
      const uint64_t r = rng() % 8;
      c = r == 0 ? '\0' : r == 1 ? '\x01' : r == 2 ? '\xFF' : static_cast<char>(rng());
    }
    const DataType type = all[rng() % std::size(all)];
    std::string_view in = bytes;
    Value v;
    Status st = DecodeKeyValue(&in, type, &v, &scratch);
    ASSERT_TRUE(st.ok() || st.code() == ErrorCode::kCorruption) << st.ToString();
    if (st.ok()) {
      ASSERT_LE(in.size(), bytes.size());
      if (PhysicalOf(type) == Physical::kBytes && !v.as_bytes().empty()) {
        // The value lies inside the input or the scratch buffer.
        const char* p = v.as_bytes().data();
        const bool in_input =
            p >= bytes.data() && p + v.as_bytes().size() <= bytes.data() + bytes.size();
        const bool in_scratch = p == scratch.data() && v.as_bytes().size() == scratch.size();
        ASSERT_TRUE(in_input || in_scratch);
      }
    }
    RowKeyParts parts;
    st = DecodeRowKey(bytes, rng() % 2, type, &parts, &scratch);
    ASSERT_TRUE(st.ok() || st.code() == ErrorCode::kCorruption) << st.ToString();
    StreamKeyParts stream;
    st = DecodeStreamKey(bytes, &stream);
    ASSERT_TRUE(st.ok() || st.code() == ErrorCode::kCorruption) << st.ToString();
  }
}

}  // namespace
}  // namespace kalamdb::storage
