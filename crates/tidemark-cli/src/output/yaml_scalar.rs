//! Scalar rules of the YAML emitter, ported from ruamel.yaml 0.19's emitter and resolver:
//! which styles a string allows (`analyze_scalar`), which plain strings would load as
//! another type (the YAML 1.2 implicit resolvers), double-quoted escapes and the backslash
//! rule of a folded double-quoted line.

/// The part of ruamel's `write_double_quoted` deciding whether a fold at `end` must end the
/// line with `\` (so that reading it back adds no space).
pub(super) fn fold_needs_backslash(chars: &[char], start: usize, end: usize) -> bool {
    let Some(space_pos) = chars[end..].iter().position(|&c| c == ' ').map(|p| p + end) else {
        return true;
    };
    let space_pos = chars[end..space_pos]
        .iter()
        .position(|&c| c == '\n')
        .map_or(space_pos, |p| p + end);
    let at = |i: usize| chars.get(i).copied();
    // A line break not followed by a space keeps the backslash (ruamel's `pass`, or its
    // IndexError at the end of the text).
    if at(space_pos) == Some('\n') && at(space_pos + 1) != Some(' ') {
        return true;
    }
    let Some(next) = at(space_pos + 1) else {
        return true;
    };
    let word = &chars[end..space_pos];
    !(!word.contains(&'"')
        && !word.contains(&'\'')
        && next != ' '
        && next != '\n'
        && !(end >= 1 && chars[end - 1] == ' ' && chars[end] == ' ')
        && start != end)
}

/// The escape ruamel writes for a char a double-quoted scalar cannot hold as is.
pub(super) fn escape(ch: char) -> Option<String> {
    let printable = (' '..='~').contains(&ch)
        || ('\u{A0}'..='\u{D7FF}').contains(&ch)
        || ('\u{E000}'..='\u{FFFD}').contains(&ch)
        || ch >= '\u{10000}';
    if printable
        && !matches!(
            ch,
            '"' | '\\' | '\u{85}' | '\u{2028}' | '\u{2029}' | '\u{FEFF}'
        )
    {
        return None;
    }
    let named = match ch {
        '\0' => '0',
        '\x07' => 'a',
        '\x08' => 'b',
        '\t' => 't',
        '\n' => 'n',
        '\x0B' => 'v',
        '\x0C' => 'f',
        '\r' => 'r',
        '\x1B' => 'e',
        '"' => '"',
        '\\' => '\\',
        '\u{85}' => 'N',
        '\u{A0}' => '_',
        '\u{2028}' => 'L',
        '\u{2029}' => 'P',
        _ => {
            let c = u32::from(ch);
            return Some(if c <= 0xFF {
                format!("\\x{c:02X}")
            } else if c <= 0xFFFF {
                format!("\\u{c:04X}")
            } else {
                format!("\\U{c:08X}")
            });
        }
    };
    Some(format!("\\{named}"))
}

pub(super) struct Analysis {
    pub multiline: bool,
    pub allow_block_plain: bool,
    pub allow_single_quoted: bool,
}

pub(super) fn is_break(c: char) -> bool {
    matches!(c, '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn is_ws(c: char) -> bool {
    matches!(c, '\0' | ' ' | '\t' | '\r') || is_break(c)
}

pub(super) fn analyze(s: &str) -> Analysis {
    let chars: Vec<char> = s.chars().collect();
    if chars.is_empty() {
        return Analysis {
            multiline: false,
            allow_block_plain: true,
            allow_single_quoted: true,
        };
    }
    let mut block_indicators = s.starts_with("---") || s.starts_with("...");
    let (mut line_breaks, mut special) = (false, false);
    let (mut leading_space, mut leading_break) = (false, false);
    let (mut trailing_space, mut trailing_break) = (false, false);
    let (mut break_space, mut space_break) = (false, false);
    let (mut prev_space, mut prev_break) = (false, false);
    let mut preceded_by_ws = true;
    let last = chars.len() - 1;
    for (i, &ch) in chars.iter().enumerate() {
        let followed_by_ws = i + 1 > last || is_ws(chars[i + 1]);
        if i == 0 {
            if "#,[]{}&*!|>'\"%@`".contains(ch) {
                block_indicators = true;
            }
            if (ch == '?' || ch == ':' || ch == '-') && followed_by_ws {
                block_indicators = true;
            }
        } else if (ch == ':' && followed_by_ws) || (ch == '#' && preceded_by_ws) {
            block_indicators = true;
        }
        if is_break(ch) {
            line_breaks = true;
        }
        if !(ch == '\n' || (' '..='~').contains(&ch)) {
            // allow_unicode is on: printable non-ASCII is fine, the BOM and controls are not.
            let printable = ch == '\u{85}'
                || ('\u{A0}'..='\u{D7FF}').contains(&ch)
                || ('\u{E000}'..='\u{FFFD}').contains(&ch)
                || ch >= '\u{10000}';
            if !printable || ch == '\u{FEFF}' {
                special = true;
            }
        }
        if ch == ' ' {
            leading_space |= i == 0;
            trailing_space |= i == last;
            break_space |= prev_break;
            (prev_space, prev_break) = (true, false);
        } else if is_break(ch) {
            leading_break |= i == 0;
            trailing_break |= i == last;
            space_break |= prev_space;
            (prev_space, prev_break) = (false, true);
        } else {
            (prev_space, prev_break) = (false, false);
        }
        preceded_by_ws = is_ws(ch);
    }
    let mut plain = !(leading_space || leading_break || trailing_space || trailing_break);
    let mut single = true;
    if break_space || special || space_break {
        plain = false;
        single = false;
    }
    if line_breaks || block_indicators {
        plain = false;
    }
    Analysis {
        multiline: line_breaks,
        allow_block_plain: plain,
        allow_single_quoted: single,
    }
}

/// Whether a plain scalar with this text would load as something other than a string
/// (ruamel's YAML 1.2 implicit resolvers: bool, int, float, null, timestamp, merge, value).
pub(super) fn resolves_to_non_string(s: &str) -> bool {
    matches!(
        s,
        "" | "~"
            | "null"
            | "Null"
            | "NULL"
            | "true"
            | "True"
            | "TRUE"
            | "false"
            | "False"
            | "FALSE"
            | "<<"
            | "="
    ) || is_int(s)
        || is_float(s)
        || is_timestamp(s)
}

fn unsign(s: &str) -> &str {
    s.strip_prefix(['-', '+']).unwrap_or(s)
}

fn all(s: &str, f: impl Fn(char) -> bool) -> bool {
    !s.is_empty() && s.chars().all(f)
}

fn is_int(s: &str) -> bool {
    let u = unsign(s);
    if let Some(b) = u.strip_prefix("0b") {
        return all(b, |c| matches!(c, '0' | '1' | '_'));
    }
    if let Some(x) = u.strip_prefix("0x") {
        return all(x, |c| c.is_ascii_hexdigit() || c == '_');
    }
    if let Some(o) = u.strip_prefix("0o") {
        return all(o, |c| matches!(c, '0'..='7' | '_'));
    }
    all(u, |c| c.is_ascii_digit() || c == '_')
}

fn is_float(s: &str) -> bool {
    if matches!(s, ".nan" | ".NaN" | ".NAN") {
        return true;
    }
    let u = unsign(s);
    if matches!(u, ".inf" | ".Inf" | ".INF") {
        return true;
    }
    let (mant, exp) = match u.find(['e', 'E']) {
        Some(i) => (&u[..i], Some(&u[i + 1..])),
        None => (u, None),
    };
    let exp_ok = |e: &str, sign_required: bool| {
        let digits = e.strip_prefix(['-', '+']);
        if sign_required && digits.is_none() {
            return false;
        }
        all(digits.unwrap_or(e), |c| c.is_ascii_digit())
    };
    let digits_ = |t: &str| t.chars().all(|c| c.is_ascii_digit() || c == '_');
    match mant.split_once('.') {
        // [0-9][0-9_]*\.[0-9_]*(e[-+]?[0-9]+)?
        Some((int, frac)) if int.starts_with(|c: char| c.is_ascii_digit()) => {
            digits_(int) && digits_(frac) && exp.is_none_or(|e| exp_ok(e, false))
        }
        // \.[0-9_]+(e[-+][0-9]+)?
        Some(("", frac)) => {
            all(frac, |c| c.is_ascii_digit() || c == '_') && exp.is_none_or(|e| exp_ok(e, true))
        }
        Some(_) => false,
        // [0-9][0-9_]*e[-+]?[0-9]+
        None => {
            mant.starts_with(|c: char| c.is_ascii_digit())
                && digits_(mant)
                && exp.is_some_and(|e| exp_ok(e, false))
        }
    }
}

/// ruamel's timestamp resolver: `YYYY-MM-DD`, or `YYYY-M-D` + `T`/`t`/blanks + `H:MM:SS`
/// + optional `.fraction` + optional blanks and `Z` / `±H[:MM]`.
fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    // Up to `max` (at least `min`) ASCII digits at `i`.
    let digits = |i: &mut usize, min: usize, max: usize| {
        let n = b[*i..]
            .iter()
            .take(max)
            .take_while(|c| c.is_ascii_digit())
            .count();
        *i += n;
        n >= min
    };
    let lit = |i: &mut usize, c: u8| {
        let ok = b.get(*i) == Some(&c);
        *i += usize::from(ok);
        ok
    };
    if !(digits(&mut i, 4, 4) && lit(&mut i, b'-')) {
        return false;
    }
    let m0 = i;
    if !(digits(&mut i, 1, 2) && lit(&mut i, b'-')) {
        return false;
    }
    let d0 = i;
    if !digits(&mut i, 1, 2) {
        return false;
    }
    if i == b.len() {
        return d0 - m0 == 3 && i - d0 == 2;
    }
    let blanks = |i: &mut usize| {
        let n = b[*i..]
            .iter()
            .take_while(|c| matches!(c, b' ' | b'\t'))
            .count();
        *i += n;
        n
    };
    if !(lit(&mut i, b'T') || lit(&mut i, b't') || blanks(&mut i) > 0) {
        return false;
    }
    if !(digits(&mut i, 1, 2)
        && lit(&mut i, b':')
        && digits(&mut i, 2, 2)
        && lit(&mut i, b':')
        && digits(&mut i, 2, 2))
    {
        return false;
    }
    if lit(&mut i, b'.') {
        digits(&mut i, 0, usize::MAX);
    }
    if i == b.len() {
        return true;
    }
    blanks(&mut i);
    if lit(&mut i, b'Z') {
        return i == b.len();
    }
    if !(lit(&mut i, b'-') || lit(&mut i, b'+')) || !digits(&mut i, 1, 2) {
        return false;
    }
    if lit(&mut i, b':') && !digits(&mut i, 2, 2) {
        return false;
    }
    i == b.len()
}
