// shape.h: the shape of a statement, the key of the (future) statement cache.
//
// The shape is the statement's token sequence with every literal replaced by `?`: numbers,
// strings, TRUE, FALSE and NULL (except NULL right after IS or NOT, which is grammar, as in
// IS NOT NULL and NOT NULL). Keywords are upper-cased, everything else is kept as written
// (quoted identifiers with their quotes), and whitespace and comments are normalised to one
// space between tokens (none after '(' '.' '::' nor before ',' ')' '.' '::' ';'). So
//   INSERT INTO a.t (id, v) VALUES (1, 'x')   and   insert into a.t (id,v) values (2,'y')
// both have the shape `INSERT INTO a.t (id, v) VALUES (?, ?)`, with literals [1, 'x'] and
// [2, 'y']. Parameters ($1) are kept: they are placeholders already.
//
// Two statements with one shape parse to the same tree except for the literal values, which
// come in `literals` in tree order. A cache keyed by shape should still compare the literal
// kinds (integer, decimal, string, keyword) with those of the cached plan, because a value's
// kind changes how it is coerced. Meant for DML and SELECT; DDL is not worth caching.
//
// Thread-safety: pure functions of their input.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "sql/lexer.h"

namespace kalamdb::sql {

struct Shape {
  std::string text;
  // The replaced literal tokens in order; their text borrows the statement.
  std::vector<Token> literals;
};

// Computes the shape of `tokens` (a Tokenize() result) into `*shape`, reusing its buffers, so a
// warm Shape makes no allocation.
void ShapeOf(std::span<const Token> tokens, Shape* shape);

inline Shape ShapeOf(std::span<const Token> tokens) {
  Shape shape;
  ShapeOf(tokens, &shape);
  return shape;
}

}  // namespace kalamdb::sql
