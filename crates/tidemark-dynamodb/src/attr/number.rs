//! DynamoDB's Number: an exact decimal with at most 38 significant digits and a magnitude
//! between 1E-130 and 9.99…E+125, parsed, compared, added and printed the way DynamoDB does.
//!
//! Why our own type rather than a crate: `rust_decimal` holds only 28 digits, and
//! `bigdecimal` allocates a heap big-integer per value. 38 decimal digits fit in an `i128`
//! (10^38 − 1 < 2^127), so a `(mantissa, exponent)` pair is `Copy`, exact, and compares without
//! allocating — which matters when a Scan filter compares numbers over 100k items.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use super::digits::Digits;
use super::error::NumberError;

/// Most significant digits DynamoDB stores.
pub const MAX_DIGITS: u32 = 38;
/// Largest allowed scientific exponent (9.99…E+125).
pub const MAX_EXPONENT: i64 = 125;
/// Smallest allowed scientific exponent (1E-130).
pub const MIN_EXPONENT: i64 = -130;

/// An exact DynamoDB number: `mantissa × 10^exponent`.
///
/// Invariants (kept by every constructor, so derived `Eq`/`Hash` are numeric equality):
/// the mantissa has no trailing decimal zeros, at most 38 digits, zero is `(0, 0)`, and the
/// scientific exponent lies in `MIN_EXPONENT..=MAX_EXPONENT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Number {
    mantissa: Mantissa,
    pub(super) exponent: i32,
}

/// An `i128` kept as two halves, so that it is aligned to 8 bytes rather than 16: a
/// [`Number`] then takes 24 bytes instead of 32, and the attribute value holding it 32
/// instead of 48 (a large list of small values is mostly those; docs/reliability.md,
/// "Bounded memory per request").
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct Mantissa {
    hi: i64,
    lo: u64,
}

impl Mantissa {
    const fn new(v: i128) -> Self {
        // Truncations are the point: the two halves of the same 128 bits.
        Self {
            hi: (v >> 64) as i64,
            lo: v as u64,
        }
    }

    const fn get(self) -> i128 {
        ((self.hi as i128) << 64) | self.lo as i128
    }
}

impl fmt::Debug for Mantissa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.get(), f)
    }
}

fn digit_count(m: u128) -> u32 {
    if m == 0 { 1 } else { m.ilog10() + 1 }
}

impl Number {
    pub const ZERO: Number = Number {
        mantissa: Mantissa::new(0),
        exponent: 0,
    };

    /// Parses DynamoDB's number syntax: optional sign, digits with an optional point, optional
    /// exponent (`+3`, `.123`, `0001.23`, `1e+5`, `0e1000` are accepted; spaces, `NaN`,
    /// `Infinity` are not — alternator `test_number.py::test_invalid_numbers`).
    pub fn parse(s: &str) -> Result<Number, NumberError> {
        if s.is_empty() {
            return Err(NumberError::Empty);
        }
        let invalid = || NumberError::Invalid(s.to_string());
        let b = s.as_bytes();
        let mut i = 0;
        let mut negative = false;
        if b[0] == b'+' || b[0] == b'-' {
            negative = b[0] == b'-';
            i = 1;
        }
        let mut mantissa: u128 = 0;
        let mut significant: u32 = 0;
        let mut pending_zeros: u32 = 0;
        let mut total_digits: i64 = 0;
        let mut int_digits: i64 = 0;
        let mut seen_point = false;
        while i < b.len() {
            let c = b[i];
            if c == b'.' {
                if seen_point {
                    return Err(invalid());
                }
                seen_point = true;
            } else if c.is_ascii_digit() {
                total_digits += 1;
                if !seen_point {
                    int_digits += 1;
                }
                let d = u128::from(c - b'0');
                if d == 0 {
                    if significant > 0 {
                        pending_zeros += 1;
                    }
                } else {
                    // Zeros followed by a non-zero digit are significant.
                    if significant + pending_zeros + 1 > MAX_DIGITS {
                        return Err(NumberError::TooManyDigits);
                    }
                    mantissa = mantissa * 10u128.pow(pending_zeros + 1) + d;
                    significant += pending_zeros + 1;
                    pending_zeros = 0;
                }
            } else {
                break;
            }
            i += 1;
        }
        if total_digits == 0 {
            return Err(invalid());
        }
        let mut literal_exp: i64 = 0;
        if i < b.len() {
            if b[i] != b'e' && b[i] != b'E' {
                return Err(invalid());
            }
            i += 1;
            let mut exp_negative = false;
            if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
                exp_negative = b[i] == b'-';
                i += 1;
            }
            if i == b.len() {
                return Err(invalid());
            }
            while i < b.len() {
                if !b[i].is_ascii_digit() {
                    return Err(invalid());
                }
                // Saturate: anything this large is out of range anyway.
                literal_exp = (literal_exp * 10 + i64::from(b[i] - b'0')).min(1 << 40);
                i += 1;
            }
            if exp_negative {
                literal_exp = -literal_exp;
            }
        }
        if mantissa == 0 {
            return Ok(Number::ZERO);
        }
        // value = digits × 10^(int_digits − total_digits); trailing zeros move into the exponent.
        let exponent = int_digits - total_digits + i64::from(pending_zeros) + literal_exp;
        Number::from_parts(negative, mantissa, exponent)
    }

    /// Builds a number from a magnitude without trailing zeros (fewer than 39 digits) and an
    /// exponent, checking DynamoDB's range.
    pub(super) fn from_parts(
        negative: bool,
        magnitude: u128,
        exponent: i64,
    ) -> Result<Number, NumberError> {
        if magnitude == 0 {
            return Ok(Number::ZERO);
        }
        let scientific = exponent + i64::from(digit_count(magnitude)) - 1;
        if scientific > MAX_EXPONENT {
            return Err(NumberError::Overflow);
        }
        if scientific < MIN_EXPONENT {
            return Err(NumberError::Underflow);
        }
        let m = i128::try_from(magnitude).map_err(|_| NumberError::TooManyDigits)?;
        let exponent = i32::try_from(exponent).map_err(|_| NumberError::Overflow)?;
        Ok(Number {
            mantissa: Mantissa::new(if negative { -m } else { m }),
            exponent,
        })
    }

    pub fn from_i64(v: i64) -> Number {
        let mut magnitude = u128::from(v.unsigned_abs());
        let mut exponent = 0;
        while magnitude != 0 && magnitude % 10 == 0 {
            magnitude /= 10;
            exponent += 1;
        }
        let m = magnitude as i128; // at most 19 digits: always fits
        Number {
            mantissa: Mantissa::new(if v < 0 { -m } else { m }),
            exponent,
        }
    }

    pub fn is_zero(&self) -> bool {
        self.mantissa.get() == 0
    }

    pub fn is_negative(&self) -> bool {
        self.mantissa.get() < 0
    }

    /// Count of significant digits (1 for zero).
    pub fn significant_digits(&self) -> u32 {
        digit_count(self.mantissa.get().unsigned_abs())
    }

    /// Scientific exponent: the value is `d.ddd × 10^scientific_exponent()`. Zero gives 0.
    pub fn scientific_exponent(&self) -> i64 {
        i64::from(self.exponent) + i64::from(self.significant_digits()) - 1
    }

    /// Significant digits, most significant first, as values 0..=9.
    pub fn digits(&self) -> Vec<u8> {
        self.mantissa
            .get()
            .unsigned_abs()
            .to_string()
            .bytes()
            .map(|c| c - b'0')
            .collect()
    }

    /// Size in bytes as DynamoDB counts it, measured byte-exactly against AWS (nubo-db/
    /// dynamodb-conformance `src/item-size.ts`): `1 + ceil(integer significant digits / 2) +
    /// ceil(fraction significant digits / 2) + 1 if negative`; zero costs 1. The Developer
    /// Guide's "1 byte per two significant digits plus 1" is only an approximation.
    pub fn storage_size(&self) -> usize {
        if self.is_zero() {
            return 1;
        }
        let n = i64::from(self.significant_digits());
        let e = i64::from(self.exponent);
        let (int_digits, frac_digits) = if e >= 0 {
            // An integer: its trailing zeros are not significant.
            (n, 0)
        } else if n > -e {
            // Digits on both sides of the point: every integer digit counts.
            (n + e, -e)
        } else {
            // A pure fraction: its leading zeros are not significant.
            (0, n)
        };
        let half = |d: i64| (d as usize).div_ceil(2);
        1 + half(int_digits) + half(frac_digits) + usize::from(self.is_negative())
    }

    pub fn negate(&self) -> Number {
        Number {
            mantissa: Mantissa::new(-self.mantissa.get()),
            exponent: self.exponent,
        }
    }

    /// Exact sum. DynamoDB rejects results it cannot store exactly; it reports a precision
    /// loss as an overflow (alternator `test_update_expression_plus_imprecise`).
    pub fn checked_add(&self, other: &Number) -> Result<Number, NumberError> {
        if self.is_zero() {
            return Ok(*other);
        }
        if other.is_zero() {
            return Ok(*self);
        }
        let e = self.exponent.min(other.exponent);
        let a = Digits::of(self, e);
        let b = Digits::of(other, e);
        let (negative, magnitude) = match (self.is_negative(), other.is_negative()) {
            (x, y) if x == y => (x, a.add(&b)),
            (x, _) => match a.cmp_mag(&b) {
                Ordering::Equal => return Ok(Number::ZERO),
                Ordering::Greater => (x, a.sub(&b)),
                Ordering::Less => (!x, b.sub(&a)),
            },
        };
        magnitude.into_number(negative, i64::from(e))
    }

    pub fn checked_sub(&self, other: &Number) -> Result<Number, NumberError> {
        self.checked_add(&other.negate())
    }
}

impl Ord for Number {
    fn cmp(&self, other: &Number) -> Ordering {
        let sign = |n: &Number| n.mantissa.get().signum();
        match sign(self).cmp(&sign(other)) {
            Ordering::Equal => {}
            unequal => return unequal,
        }
        if self.is_zero() {
            return Ordering::Equal;
        }
        let magnitude = self.cmp_magnitude(other);
        if self.is_negative() {
            magnitude.reverse()
        } else {
            magnitude
        }
    }
}

impl Number {
    fn cmp_magnitude(&self, other: &Number) -> Ordering {
        match self.scientific_exponent().cmp(&other.scientific_exponent()) {
            Ordering::Equal => {}
            unequal => return unequal,
        }
        let (a, b) = (
            self.mantissa.get().unsigned_abs(),
            other.mantissa.get().unsigned_abs(),
        );
        let (da, db) = (digit_count(a), digit_count(b));
        let width = da.max(db);
        // Both padded to at most 38 digits: fits in u128.
        (a * 10u128.pow(width - da)).cmp(&(b * 10u128.pow(width - db)))
    }
}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Number) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Canonical text, as DynamoDB returns numbers: no exponent, no leading zeros, no trailing
/// fractional zeros, `-0` as `0` (dynalite stores `Big(n).toFixed()`).
impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.mantissa.get().unsigned_abs().to_string();
        let mut out = String::with_capacity(digits.len() + 4);
        if self.mantissa.get() < 0 {
            out.push('-');
        }
        if self.exponent >= 0 {
            out.push_str(&digits);
            if self.mantissa.get() != 0 {
                out.extend(std::iter::repeat_n('0', self.exponent as usize));
            }
        } else {
            let frac = self.exponent.unsigned_abs() as usize;
            if frac < digits.len() {
                let (int, rest) = digits.split_at(digits.len() - frac);
                out.push_str(int);
                out.push('.');
                out.push_str(rest);
            } else {
                out.push_str("0.");
                out.extend(std::iter::repeat_n('0', frac - digits.len()));
                out.push_str(&digits);
            }
        }
        f.write_str(&out)
    }
}

impl FromStr for Number {
    type Err = NumberError;
    fn from_str(s: &str) -> Result<Number, NumberError> {
        Number::parse(s)
    }
}

impl serde::Serialize for Number {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Number {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Number, D::Error> {
        let s = String::deserialize(d)?;
        Number::parse(&s).map_err(serde::de::Error::custom)
    }
}
