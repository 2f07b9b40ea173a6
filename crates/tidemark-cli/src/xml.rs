//! A minimal XML tree (local names, concatenated text) built with quick-xml, enough for
//! awsQuery responses.

use quick_xml::events::Event;

#[derive(Debug, Default, Clone)]
pub struct Node {
    /// Local name (namespace prefix stripped).
    pub tag: String,
    pub text: String,
    pub children: Vec<Node>,
}

impl Node {
    /// Depth-first search for the first descendant named `tag`.
    pub fn find(&self, tag: &str) -> Option<&Node> {
        for c in &self.children {
            if c.tag == tag {
                return Some(c);
            }
            if let Some(n) = c.find(tag) {
                return Some(n);
            }
        }
        None
    }
}

/// Parses a document and returns its root element.
pub fn parse(body: &[u8]) -> Result<Node, String> {
    let mut reader = quick_xml::Reader::from_reader(body);
    let mut stack: Vec<Node> = vec![Node::default()];
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                let tag = e.local_name().as_ref().to_string();
                stack.push(Node {
                    tag,
                    ..Node::default()
                });
            }
            Ok(Event::Empty(e)) => {
                let tag = e.local_name().as_ref().to_string();
                if let Some(top) = stack.last_mut() {
                    top.children.push(Node {
                        tag,
                        ..Node::default()
                    });
                }
            }
            Ok(Event::Text(t)) => {
                let s = t.xml10_content();
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&s);
                }
            }
            Ok(Event::GeneralRef(r)) => {
                let name = r.as_ref().to_string();
                let s = match name.as_str() {
                    "lt" => "<".to_string(),
                    "gt" => ">".to_string(),
                    "amp" => "&".to_string(),
                    "quot" => "\"".to_string(),
                    "apos" => "'".to_string(),
                    n if n.starts_with("#x") => u32::from_str_radix(&n[2..], 16)
                        .ok()
                        .and_then(char::from_u32)
                        .map(String::from)
                        .unwrap_or_default(),
                    n if n.starts_with('#') => n[1..]
                        .parse::<u32>()
                        .ok()
                        .and_then(char::from_u32)
                        .map(String::from)
                        .unwrap_or_default(),
                    _ => String::new(),
                };
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&s);
                }
            }
            Ok(Event::CData(c)) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&c.xml10_content());
                }
            }
            Ok(Event::End(_)) => {
                let node = stack.pop().ok_or("unbalanced XML")?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => return Err("unbalanced XML".into()),
                }
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => {
                return Err(format!(
                    "Unable to parse response ({e}), invalid XML received"
                ));
            }
        }
    }
    let doc = stack.pop().ok_or("empty XML")?;
    doc.children
        .into_iter()
        .next()
        .ok_or_else(|| "empty XML".to_string())
}
