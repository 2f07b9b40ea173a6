//! Tokeniser shared by every expression kind. It never fails: characters DynamoDB's lexer does
//! not know become `Invalid` tokens, and the parser reports them as syntax errors.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tok {
    /// `[A-Za-z][A-Za-z0-9_]*`: attribute names, keywords and function names.
    Ident,
    /// `#[A-Za-z0-9_]+`
    Name,
    /// `:[A-Za-z0-9_]+`
    Value,
    /// `[0-9]+` (list indexes)
    Int,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Dot,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Plus,
    Minus,
    Invalid,
    Eof,
}

/// A token and its byte span in the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    pub tok: Tok,
    pub start: usize,
    pub end: usize,
}

fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// Splits `src` into tokens, always ending with `Eof`.
pub fn tokenize(src: &str) -> Vec<Token> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if matches!(c, b' ' | b'\t' | b'\r' | b'\n') {
            i += 1;
            continue;
        }
        let start = i;
        let two = |next: u8| b.get(i + 1) == Some(&next);
        let (tok, len) = match c {
            b'(' => (Tok::LParen, 1),
            b')' => (Tok::RParen, 1),
            b'[' => (Tok::LBracket, 1),
            b']' => (Tok::RBracket, 1),
            b',' => (Tok::Comma, 1),
            b'.' => (Tok::Dot, 1),
            b'+' => (Tok::Plus, 1),
            b'-' => (Tok::Minus, 1),
            b'=' => (Tok::Eq, 1),
            b'<' if two(b'>') => (Tok::Ne, 2),
            b'<' if two(b'=') => (Tok::Le, 2),
            b'<' => (Tok::Lt, 1),
            b'>' if two(b'=') => (Tok::Ge, 2),
            b'>' => (Tok::Gt, 1),
            b'#' | b':' => {
                let n = b[i + 1..].iter().take_while(|c| is_word(**c)).count();
                match (c, n) {
                    (_, 0) => (Tok::Invalid, 1),
                    (b'#', n) => (Tok::Name, n + 1),
                    (_, n) => (Tok::Value, n + 1),
                }
            }
            c if c.is_ascii_alphabetic() => (
                Tok::Ident,
                b[i..].iter().take_while(|c| is_word(**c)).count(),
            ),
            c if c.is_ascii_digit() => (
                Tok::Int,
                b[i..].iter().take_while(|c| c.is_ascii_digit()).count(),
            ),
            _ => {
                // One whole (possibly multi-byte) character.
                let len = src[i..].chars().next().map_or(1, char::len_utf8);
                (Tok::Invalid, len)
            }
        };
        i += len;
        out.push(Token { tok, start, end: i });
    }
    out.push(Token {
        tok: Tok::Eof,
        start: b.len(),
        end: b.len(),
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_spans() {
        let toks: Vec<Tok> = tokenize("a.#b[12] <> :v1,size(x)<=_")
            .iter()
            .map(|t| t.tok)
            .collect();
        use Tok::*;
        assert_eq!(
            toks,
            vec![
                Ident, Dot, Name, LBracket, Int, RBracket, Ne, Value, Comma, Ident, LParen, Ident,
                RParen, Le, Invalid, Eof
            ]
        );
        let t = tokenize("  héllo");
        assert_eq!((t[0].start, t[0].end), (2, 3));
        assert_eq!(t[1].tok, Invalid);
        assert_eq!((t[1].start, t[1].end), (3, 5));
    }
}
